using System.Text;
using Akka.Actor;
using Akka.Event;
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
            case var messaging when IsMessagingCommand(messaging):
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
        Write(RequestKind.Execute, sender, timeout,
            id => HostFrames.Execute(id, timeout, memoryKb, execute.Code, execute.Mode == ExecuteMode.Repl));
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
                head.ReplyTo.Tell(_sizeLimits.CheckReply(_vmId, Replies.FromExecution(_vmId, frame)));
                break;
            case RequestKind.Ping:
                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok
                    ? new VmPong(_vmId, Encoding.UTF8.GetString(frame.Payload.Span))
                    : Replies.FromExecution(_vmId, frame));
                break;
            case RequestKind.Reset:
                if (frame.Op == Frame.Ops.Ok)
                {
                    // The reset closed every socket: no listener is left to register or to restore.
                    ForgetListeners();
                    _servers.Clear();
                }

                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok ? new VmWasReset(_vmId) : Replies.FromExecution(_vmId, frame));
                break;
            case RequestKind.Serve:
                OnServeReply(head, Replies.FromExecution(_vmId, frame));
                break;
            case RequestKind.RestoreServer:
                OnServerRestored(head, Replies.FromExecution(_vmId, frame));
                break;
            case RequestKind.Limits when frame.Op != Frame.Ops.Ok:
                LoseInstance("the VM refused its limits: " + Replies.Describe(_vmId, frame));
                break;
            case RequestKind.Init when frame.Op != Frame.Ops.Ok && frame.Op != Frame.Ops.Result:
                OnInitFailed(Replies.FromExecution(_vmId, frame));
                break;
            case RequestKind.Ready:
                OnReady();
                break;
            case RequestKind.SessionInput:
                OnSessionInputEvaluated(head, _sizeLimits.CheckReply(_vmId, Replies.FromExecution(_vmId, frame)));
                break;
        }

        StopIfHandedOff();
    }

    /// <summary>Frames the VM sends on its own, at any time (docs/protocol.md §11): never replies to a request.</summary>
    private bool OnVmInitiatedFrame(Frame frame)
    {
        switch (frame.Op)
        {
            case Frame.Ops.Want:
                OnWant(frame);
                return true;
            case Frame.Ops.Unwant:
                OnUnwant(frame);
                return true;
            case Frame.Ops.Message:
                OnMessageCall(frame);
                return true;
            case Frame.Ops.TaskEvent:
                _log.Info("VM {0} background task {1}: {2}", _vmId, frame.Id, Encoding.UTF8.GetString(frame.Payload.Span));
                return true;
            default:
                return false;
        }
    }
}
