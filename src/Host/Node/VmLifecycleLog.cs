using Akka.Actor;
using LuaActors.Messages;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>
/// Turns the VM events this node's actors publish on the event stream into structured log events
/// (docs/operations.md, "Logs"): VmId, Node, Reason, Restarts … as named properties.
/// </summary>
internal sealed partial class VmLifecycleLog : ReceiveActor
{
    public const string Category = NodeLogging.Category + ".Vms";

    private readonly ILogger _logger;
    private readonly string _node;

    public VmLifecycleLog(ILoggerFactory loggers)
    {
        _logger = loggers.CreateLogger(Category);
        _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();
        Receive<VmStarted>(e =>
        {
            if (e.Created)
            {
                Created(_logger, e.VmId, e.Type, _node, e.ProcessId);
            }
            else
            {
                StartedFromSpec(_logger, e.VmId, e.Type, _node, e.ProcessId);
            }
        });
        Receive<VmCrashed>(e => Crashed(_logger, e.VmId, _node, e.Reason));
        Receive<VmRestarted>(e => Restarted(_logger, e.VmId, _node, e.Restarts, e.Reason));
        Receive<VmGaveUp>(e => Failed(_logger, e.VmId, _node, e.Restarts, e.Reason));
        Receive<VmRemoved>(e => Removed(_logger, e.VmId, _node));
        Receive<VmHandedOff>(e => HandedOff(_logger, e.VmId, _node));
    }

    public static Props Props(ILoggerFactory loggers) => Akka.Actor.Props.Create(() => new VmLifecycleLog(loggers));

    protected override void PreStart()
    {
        foreach (var type in new[] { typeof(VmStarted), typeof(VmCrashed), typeof(VmRestarted), typeof(VmGaveUp), typeof(VmRemoved), typeof(VmHandedOff) })
        {
            Context.System.EventStream.Subscribe(Self, type);
        }
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    [LoggerMessage(EventId = 100, EventName = "VmCreated", Level = LogLevel.Information,
        Message = "VM {VmId} ({VmType}) created on {Node}, process {ProcessId}")]
    private static partial void Created(ILogger logger, string vmId, string vmType, string node, int? processId);

    [LoggerMessage(EventId = 101, EventName = "VmMovedHere", Level = LogLevel.Information,
        Message = "VM {VmId} ({VmType}) started on {Node} from its stored spec (moved here from another node, or re-activated), process {ProcessId}")]
    private static partial void StartedFromSpec(ILogger logger, string vmId, string vmType, string node, int? processId);

    [LoggerMessage(EventId = 102, EventName = "VmCrashed", Level = LogLevel.Warning,
        Message = "VM {VmId} on {Node} lost its process: {Reason}")]
    private static partial void Crashed(ILogger logger, string vmId, string node, string reason);

    [LoggerMessage(EventId = 103, EventName = "VmRestarted", Level = LogLevel.Information,
        Message = "VM {VmId} on {Node} answers again after restart {Restarts} ({Reason})")]
    private static partial void Restarted(ILogger logger, string vmId, string node, int restarts, string reason);

    [LoggerMessage(EventId = 104, EventName = "VmFailed", Level = LogLevel.Error,
        Message = "VM {VmId} on {Node} gave up after {Restarts} restarts: {Reason}")]
    private static partial void Failed(ILogger logger, string vmId, string node, int restarts, string reason);

    [LoggerMessage(EventId = 105, EventName = "VmRemoved", Level = LogLevel.Information,
        Message = "VM {VmId} removed from {Node}")]
    private static partial void Removed(ILogger logger, string vmId, string node);

    [LoggerMessage(EventId = 106, EventName = "VmMovedAway", Level = LogLevel.Information,
        Message = "VM {VmId} handed off by {Node} (the node leaves, or its shard moves): it starts again on the node that takes its shard")]
    private static partial void HandedOff(ILogger logger, string vmId, string node);
}
