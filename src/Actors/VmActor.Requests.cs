using System.Text;
using Akka.Actor;
using Akka.Event;
using LuaActors.Diagnostics;
using LuaActors.Protocol;
using LuaActors.Backends;
using LuaActors.Messages;
using LuaActors.Process;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// Requests to a running VM: each command becomes a frame to the process (or is answered by the
/// actor), and each reply frame is matched to the oldest request in the <see cref="RequestPipeline"/>.
/// </summary>
public sealed partial class VmActor
{
    private void Send(IVmCommand command, IActorRef sender)
    {
        switch (command)
        {
            case Execute execute:
                Execute(execute, sender);
                break;
            case PingVm:
                Write(RequestKind.Ping, sender, _limits.TimeoutMs, HostFrames.Ping);
                break;
            case ResetVm:
                Write(RequestKind.Reset, sender, _limits.TimeoutMs, HostFrames.Reset);
                break;
            case StartServer start:
                StartServerInVm(start, sender);
                break;
            case ISessionCommand session:
                OnSessionCommand(session, sender);
                break;
            case IVmMessagingCommand messaging:
                HandleMessaging(messaging, sender);
                break;
            default:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest,
                    $"a VM does not handle {command.GetType().Name}"));
                break;
        }
    }

    private void Execute(Execute execute, IActorRef sender)
    {
        if (execute.Code is null)
        {
            sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, "Execute needs Code"));
            return;
        }

        if (execute.TimeoutMs is <= 0 || execute.MemoryMb is <= 0)
        {
            sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest,
                "TimeoutMs and MemoryMb must be positive when given"));
            return;
        }

        var timeout = execute.TimeoutMs ?? _limits.TimeoutMs;
        var memoryKb = _limits.ExecuteMemoryKb(execute.MemoryMb);
        var request = Write(RequestKind.Execute, sender, timeout,
            id => execute.Mode == ExecuteMode.Repl
                ? HostFrames.Eval(id, timeout, memoryKb, execute.Code)
                : HostFrames.Execute(id, timeout, memoryKb, execute.Code));
        LuaActorsMetrics.ExecutionStarted(Self, request.Id, execute);
    }

    private void OnFrame(InstanceFrameReceived received)
    {
        if (received.Generation != _generation || _instance is null)
        {
            return;
        }

        var frame = received.Frame;
        if (OnVmInitiatedFrame(frame))
        {
            return;
        }

        if (_pipeline.Complete(frame.Id, out var expected) is not { } head)
        {
            LoseInstance($"protocol error: reply {frame.Id} does not match the oldest request {expected}");
            return;
        }

        switch (head.Kind)
        {
            case RequestKind.Execute:
                // Too big a reply would be dropped on its way to another node: TooLarge instead, here too.
                head.ReplyTo.Tell(LuaActorsMetrics.ExecutionCompleted(Self, head.Id, _sizeLimits.CheckReply(_vmId, frame.ToMessage(_vmId))));
                break;
            case RequestKind.Ping:
                head.ReplyTo.Tell(frame is OkReply pong
                    ? new VmPong(_vmId, pong.Text)
                    : frame.ToMessage(_vmId));
                break;
            case RequestKind.Reset:
                if (frame is OkReply)
                {
                    // The reset closed every socket: no listener is left to register or to restore.
                    ForgetListeners();
                    _listeners.ClearServers();
                    _wiring.Note(Context, Persistence.WiringServersCleared.Instance);
                }

                head.ReplyTo.Tell(frame is OkReply ? new VmWasReset(_vmId) : frame.ToMessage(_vmId));
                break;
            case RequestKind.Serve:
                OnServeReply(head, frame.ToMessage(_vmId));
                break;
            case RequestKind.RestoreServer:
                OnServerRestored(head, frame.ToMessage(_vmId));
                break;
            case RequestKind.Limits when frame is not OkReply:
                LoseInstance("the VM refused its limits: " + frame.Describe());
                break;
            case RequestKind.Init when frame is not (OkReply or ResultReply):
                OnInitFailed(frame.ToMessage(_vmId));
                break;
            case RequestKind.Ready:
                OnReady();
                break;
            case RequestKind.SessionInput:
                OnSessionInputEvaluated(head, _sizeLimits.CheckReply(_vmId, frame.ToMessage(_vmId)));
                break;
        }

        StopIfHandedOff();
    }

    /// <summary>Frames the VM sends on its own, at any time (docs/protocol.md §11): never replies to a request.</summary>
    private bool OnVmInitiatedFrame(VmFrame frame)
    {
        switch (frame)
        {
            case WantMessage want:
                OnWant(want);
                return true;
            case UnwantMessage unwant:
                OnUnwant(unwant);
                return true;
            case MessageCall call:
                OnMessageCall(call);
                return true;
            case StorageCall call:
                OnStorageCall(call);
                return true;
            case TaskEvent task:
                _log.Info("VM {0} background task {1}: {2}", _vmId, task.Id, task.Describe());
                return true;
            case MalformedFrame malformed when malformed.Op.IsVmInitiated():
                LoseInstance("protocol error: " + malformed.Describe());
                return true;
            default:
                return false;
        }
    }
}
