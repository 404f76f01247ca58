using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>
/// Akka's log events into Microsoft.Extensions.Logging, one event each: the category is the class
/// that logged under <c>Akka</c> (<c>Akka.LuaActors.VmActor</c>, <c>Akka.Cluster.ClusterCoreDaemon</c>),
/// the message Akka's text alone, and the actor that logged a named property (<c>LogSource</c>),
/// so that the JSON log carries no second timestamp-and-level prefix inside its message.
/// </summary>
internal sealed partial class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly Dictionary<Type, ILogger> _loggers = [];
    private readonly ILoggerFactory _factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>();

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                if (!_loggers.TryGetValue(e.LogClass, out var logger))
                {
                    var name = e.LogClass.FullName ?? e.LogClass.Name;
                    logger = _factory.CreateLogger(name.StartsWith("Akka.", StringComparison.Ordinal) ? name : "Akka." + name);
                    _loggers[e.LogClass] = logger;
                }

                var level = Level(e.LogLevel());
                if (logger.IsEnabled(level))
                {
                    var text = e.Message?.ToString() ?? "";
                    Write(logger, level, e.Cause, e.LogSource, text);
                }

                return true;
            default:
                return false;
        }
    }

    private static Microsoft.Extensions.Logging.LogLevel Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
        _ => Microsoft.Extensions.Logging.LogLevel.Error,
    };

    [LoggerMessage(EventId = 2, EventName = "Akka", Message = "[{LogSource}] {Text}")]
    private static partial void Write(ILogger logger, Microsoft.Extensions.Logging.LogLevel level, Exception? cause, string logSource, string text);
}
