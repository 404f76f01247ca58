using System.Threading.Channels;
using Akka.Actor;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Sessions;

/// <summary>
/// The client end of one interactive session, on the node of whoever attached. The VM sends it
/// every session event; it feeds them to <see cref="VmSession"/>. It watches the VM's actor:
/// when that actor goes without saying the VM stopped (a hand-over to another node, a lost
/// node), it attaches again to wherever the VM now runs.
/// </summary>
internal sealed class SessionActor : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Detach, then stop (completing the session's end). A VM that does not answer within
    /// <paramref name="Within"/> (its node unreachable) is not waited for: it forgets the session
    /// when it sees this actor stop.
    /// </summary>
    public sealed record Detach(TimeSpan Within);

    private sealed record DetachTimedOut
    {
        public static readonly DetachTimedOut Instance = new();
    }

    private readonly string _vmId;
    private readonly string _sessionId;
    private readonly IActorRef _manager;
    private readonly ChannelWriter<ILuaActorsMessage> _events;
    private readonly TaskCompletionSource<SessionAttached> _attached;
    private readonly TaskCompletionSource _ended;
    private bool _detaching;
    private IActorRef? _vm;

    public SessionActor(string vmId, string sessionId, IActorRef manager, ChannelWriter<ILuaActorsMessage> events,
        TaskCompletionSource<SessionAttached> attached, TaskCompletionSource ended)
    {
        _ended = ended;
        _vmId = vmId;
        _sessionId = sessionId;
        _manager = manager;
        _events = events;
        _attached = attached;

        Receive<SessionAttached>(OnAttached);
        Receive<RequestFailed>(OnFailed);
        Receive<SessionInputEvaluated>(evaluated => _events.TryWrite(evaluated));
        Receive<VmRestarted>(restarted => _events.TryWrite(restarted));
        Receive<VmStopped>(stopped => End(stopped));
        Receive<Detach>(detach =>
        {
            if (!_detaching)
            {
                _detaching = true;
                _manager.Tell(new DetachSession(_vmId, _sessionId));
                Timers.StartSingleTimer("detach", DetachTimedOut.Instance, detach.Within);
            }
        });
        Receive<DetachTimedOut>(_ => End(null));
        Receive<SessionDetached>(_ => End(null));
        Receive<Terminated>(terminated =>
        {
            if (terminated.ActorRef.Equals(_vm) && _detaching)
            {
                // Leaving anyway: nothing to detach from any more.
                End(null);
            }
            else if (terminated.ActorRef.Equals(_vm))
            {
                // The VM's actor is gone but the VM was not removed: find it again.
                _vm = null;
                _manager.Tell(new AttachSession(_vmId, _sessionId));
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string vmId, string sessionId, IActorRef manager, ChannelWriter<ILuaActorsMessage> events,
        TaskCompletionSource<SessionAttached> attached, TaskCompletionSource ended) =>
        Akka.Actor.Props.Create(() => new SessionActor(vmId, sessionId, manager, events, attached, ended));

    protected override void PreStart() => _manager.Tell(new AttachSession(_vmId, _sessionId));

    protected override void PostStop()
    {
        _attached.TrySetException(new VmUnavailableException(_vmId, ErrorKind.Stopped, "the session ended before it was attached"));
        _events.TryComplete();
        _ended.TrySetResult();
    }

    private void OnAttached(SessionAttached attached)
    {
        if (_vm is not null && !_vm.Equals(Sender))
        {
            Context.Unwatch(_vm);
        }

        var reattached = _attached.Task.IsCompleted;
        _vm = Sender;
        Context.Watch(_vm);
        if (reattached)
        {
            _events.TryWrite(new VmRestarted(_vmId, 0, "the VM moved to another node (hand-over or lost node); the session followed it"));
        }
        else
        {
            _attached.TrySetResult(attached);
        }
    }

    private void OnFailed(RequestFailed failed)
    {
        if (!_attached.Task.IsCompleted)
        {
            _attached.TrySetException(LuaActorsException.From(failed));
            Context.Stop(Self);
        }
        else if (_vm is null)
        {
            // Re-attaching failed: the VM is gone for good.
            End(new VmStopped(_vmId, failed.Message));
        }
        else
        {
            _events.TryWrite(failed);
        }
    }

    private void End(VmStopped? stopped)
    {
        if (stopped is not null)
        {
            _events.TryWrite(stopped);
        }

        Context.Stop(Self);
    }
}
