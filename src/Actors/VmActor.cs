using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using LuaActors.Diagnostics;
using LuaActors.Protocol;
using LuaActors.Backends;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Persistence;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// Owns one VM: exactly one interpreter instance at a time, started through the backend that
/// the <see cref="VmFactoryActor"/> resolves for the VM's type. Requests are pipelined to the
/// process and replies matched in order. When the process dies every in-flight request fails
/// at once (Crashed, or Timeout for the one that was killed for running past its deadline), and a
/// new process starts after a backoff, runs the init script again, and serves what waited.
/// When this actor stops, its process is killed.
/// <para>
/// The same actor runs as a child of the local <see cref="ManagerActor"/> and as an entity of the
/// shard region: the spec arrives with <see cref="CreateVm"/> or, when the actor starts with no
/// message from a user (a restart, a hand-over), from the <see cref="IVmSpecStore"/>; it stops
/// itself through its parent with <see cref="Passivate"/> either way.
/// </para>
/// <code>
///             CreateVm / spec found                  ready (Limits, Init, Ping answered)
///   Loading ───────────────────────► Starting ──────────────────────────────► Running
///      │ no spec                       │    │ not supported       restarted ▲      │ process lost
///      │                               │    └──────► NotProvisioned          │      ▼
///      │                               │ first start failed   backoff ──► Restarting
///      │                               ▼                                   │ too many restarts
///      │                         Failed (spec removed)                     ▼
///      │                               │                                 Failed
///      ▼                               ▼
///   Unregistered ◄──── spec removed (RemoveVm, from any state with a spec) ────  → Passivate → stop
/// </code>
/// The parts each state drives are plain classes: <see cref="RequestPipeline"/> (requests in
/// flight, ids, deadlines), <see cref="ProcessLifecycle"/> (start-up sequence, losses, and the
/// <see cref="RestartPolicy"/> that decides what follows), <see cref="WaitingRequests"/>,
/// <see cref="SessionTable"/>, <see cref="VmMailboxes"/> (inbox, peers, topics, what the VM sends
/// its owner), <see cref="MessageDelivery"/>, <see cref="NetworkCallRule"/>, <see cref="VmListenerBook"/>,
/// <see cref="Storage.StorageWaits"/>, and <see cref="VmAnswers"/> (every refusal).
/// </summary>
public sealed partial class VmActor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>
    /// Sharding's hand-off stop message: finish the requests in flight (bounded by their
    /// deadlines), then stop, so a graceful leave loses no request that had reached the VM.
    /// </summary>
    public sealed record HandOff
    {
        public static readonly HandOff Instance = new();
    }

    /// <summary>The stop message this actor asks its parent to send it (<see cref="Passivate"/>).</summary>
    internal sealed record StopVm
    {
        public static readonly StopVm Instance = new();
    }

    private sealed record SpecLoaded(VmSpec? Spec, string? Problem = null);

    private sealed record SpecRemoved(IActorRef ReplyTo, RequestFailed? CreationFailure, string? StorageProblem = null);

    private readonly string _vmId;
    private readonly IActorRef _factory;
    private readonly VmSettings _settings;
    private readonly IVmSpecStore _specs;
    private readonly SizeLimits _sizeLimits = SizeLimits.Of(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RequestPipeline _pipeline = new(TimeProvider.System);
    private readonly RestartPolicy _restartPolicy;
    private readonly SessionTable _sessions = new();
    private readonly VmWiringKeeper _wiring;

    private readonly WaitingRequests _waiting;
    private readonly VmAnswers _answers;
    private readonly string _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

    private VmSpec? _spec;
    private VmRunLimits _limits = null!;
    private IActorRef? _creator;
    private VmState _reported = VmState.Starting;
    private bool _handingOff;

    /// <param name="specs">Where this VM's spec is looked up when it starts with no <see cref="CreateVm"/>, and removed from.</param>
    /// <param name="router">Where a message for another VM goes: the local manager, or the shard region.</param>
    public VmActor(string vmId, IActorRef factory, VmSettings settings, IVmSpecStore specs, IActorRef router)
    {
        _vmId = vmId;
        _factory = factory;
        _settings = settings;
        _specs = specs;
        _vmRouter = router;
        _mail = new VmMailboxes(vmId, settings.InboxCapacity);
        _wiring = new VmWiringKeeper(vmId, Context.System, _log);
        _delivery = new MessageDelivery(vmId, message => router.Ask<object>(message, settings.SendTimeout), settings.SendTimeout);
        _restartPolicy = new RestartPolicy(
            settings.MaxRestarts, settings.RestartWindow, settings.RestartBaseBackoff, settings.RestartMaxBackoff, TimeProvider.System);
        _process = new ProcessLifecycle(_restartPolicy, TimeProvider.System);
        _waiting = new WaitingRequests(settings.MaxBufferedRequests);
        _answers = new VmAnswers(vmId, settings.KillGrace);
        _storageWaits = new Storage.StorageWaits(vmId);
        _networkRule = new NetworkCallRule(settings.Networking);
        Loading();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string vmId, IActorRef factory, VmSettings settings, IVmSpecStore specs, IActorRef router) =>
        Akka.Actor.Props.Create(() => new VmActor(vmId, factory, settings, specs, router));

    protected override void PreStart()
    {
        LuaActorsMetrics.VmTracked(Self, _vmId, () => new VmSample(_spec?.Type, _reported, _instance?.ProcessId, _mail.InboxCount, _waiting.Count));
        _specs.FindAsync(_vmId).PipeTo(
            Self,
            success: spec => new SpecLoaded(spec),
            failure: error => new SpecLoaded(null, error.GetBaseException().Message));
    }

    protected override void PostStop()
    {
        LuaActorsMetrics.VmUntracked(Self);
        KillInstance();
        var stopped = _answers.Stopped();
        foreach (var (pending, _) in _pipeline.Abandon())
        {
            pending.ReplyTo.Tell(stopped);
        }

        AnswerWaiting(stopped);
        _creator?.Tell(stopped);
        FailHostWaits(stopped);
        if (_handingOff)
        {
            Context.System.EventStream.Publish(new VmHandedOff(_vmId));
            HandMessagingOver();
        }
        else
        {
            // On a hand-over the sessions follow the VM to its new node instead.
            TellSessions(new VmStopped(_vmId, $"VM '{_vmId}' was removed or stopped"));
        }
    }

    // ---- the states ----------------------------------------------------------------------------

    /// <summary>The spec is not known yet: a create brings it, else the store; everything else waits.</summary>
    private void Loading()
    {
        Receive<CreateVm>(create => Adopt(create.Spec, Sender));
        Receive<SpecLoaded>(OnSpecLoaded);
        Receive<HandOff>(_ => Context.Stop(Self));
        Receive<StopVm>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>The spec came from the store: the durable links, topics and servers are read before the process starts.</summary>
    private void LoadingWiring()
    {
        Receive<IVmWiringReply>(reply => _wiring.Handle(Context, reply, Sender));
        Receive<HandOff>(_ => Context.Stop(Self));
        Receive<StopVm>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>The process is starting (or restarting after a backoff) and runs the init script; requests wait.</summary>
    private void Starting()
    {
        Receive<CreateVm>(create =>
        {
            if (_creator is null)
            {
                // The actor had already loaded this spec from the store: answer when it runs.
                _creator = Sender;
            }
            else
            {
                Sender.Tell(AlreadyExists());
            }
        });
        Receive<VmFactoryActor.BackendResolved>(resolved =>
        {
            _backend = resolved.Backend;
            StartNewInstance();
        });
        Receive<RequestFailed>(FailCreation);
        Receive<StartInstance>(_ => StartNewInstance());
        ReceiveWithSpec();
        Receive<IVmCommand>(command =>
        {
            if (command is IVmMessagingCommand)
            {
                // The inbox, peers and topics are the actor's: a (re)starting process does not hold them up.
                HandleMessaging(command, Sender);
            }
            else if (!_waiting.TryAdd(command, Sender))
            {
                Sender.Tell(_answers.TooManyWaiting(_waiting.Count));
            }
        });
    }

    /// <summary>The process answers: requests go to it (VmActor.Requests.cs).</summary>
    private void Running()
    {
        // Only an execute sent straight to this actor (VmManager.Execute.cs) arrives after the
        // hand-over began: undelivered, the manager sends it to the VM's next home.
        Receive<Execute>(
            _ => Sender.Tell(_answers.Moving()),
            _ => _handingOff);
        Receive<CreateVm>(_ => Sender.Tell(new VmCreated(Info())));
        ReceiveWithSpec();
        Receive<IVmCommand>(command => Send(command, Sender));
    }

    /// <summary>Restarted too often (or its first start failed): requests fail until it is removed.</summary>
    private void Failed()
    {
        Receive<CreateVm>(_ => Sender.Tell(AlreadyExists()));
        ReceiveWithSpec();
        Receive<IVmCommand>(_ => Sender.Tell(GaveUp()));
    }

    /// <summary>A type with nothing behind it yet (a stub backend): it exists, and says so to every request.</summary>
    private void NotProvisioned()
    {
        Receive<CreateVm>(_ => Sender.Tell(new VmCreated(Info())));
        ReceiveWithSpec();
        Receive<IVmCommand>(_ => Sender.Tell(NotSupported()));
    }

    /// <summary>
    /// No spec (never created, or removed): every request hears so until the parent stops the actor.
    /// </summary>
    /// <param name="removed">It had a spec, now removed: a create is for the fresh actor that follows this one.</param>
    /// <param name="answer">What requests are told.</param>
    private void Unregistered(bool removed, RequestFailed answer)
    {
        Receive<CreateVm>(create =>
        {
            if (removed)
            {
                Sender.Tell(_answers.BeingRemoved());
            }
            else
            {
                Adopt(create.Spec, Sender);
            }
        });
        Receive<SpecRemoved>(again => again.ReplyTo.Tell(again.CreationFailure ?? (ILuaActorsMessage)new VmRemoved(_vmId)));
        Receive<HandOff>(_ => Context.Stop(Self));
        Receive<StopVm>(_ => Context.Stop(Self));
        Receive<SpecLoaded>(_ => { });
        ReceiveProcessEvents();
        // Late answers for the process that was killed: a listener registered meanwhile leaves the registry.
        ReceiveMessaging();
        ReceiveNetworking();
        Receive<Terminated>(terminated => _sessions.DropClient(terminated.ActorRef));
        Receive<IVmCommand>(_ => Sender.Tell(answer));
    }

    /// <summary>What every state with a spec handles alike.</summary>
    private void ReceiveWithSpec()
    {
        ReceiveStorage();
        Receive<IVmWiringReply>(reply => _wiring.Handle(Context, reply, Sender));
        Receive<SpecLoaded>(_ => { });
        Receive<RemoveVm>(_ => RemoveSpecThen(Sender, null));
        Receive<SpecRemoved>(OnSpecRemoved);
        Receive<HandOff>(_ => OnHandOff());
        Receive<StopVm>(_ => Context.Stop(Self));
        Receive<GetVmInfo>(_ => Sender.Tell(Info()));
        Receive<Terminated>(terminated => _sessions.DropClient(terminated.ActorRef));
        ReceiveProcessEvents();
        ReceiveMessaging();
        ReceiveNetworking();
    }

    /// <summary>Enters a state with a spec; <paramref name="reported"/> is what the VM's info says.</summary>
    private void Enter(VmState reported)
    {
        _reported = reported;
        switch (reported)
        {
            case VmState.Starting or VmState.Restarting:
                Become(Starting);
                break;
            case VmState.Running:
                Become(Running);
                break;
            case VmState.NotProvisioned:
                Become(NotProvisioned);
                break;
            default:
                Become(Failed);
                break;
        }
    }

    // ---- the spec ------------------------------------------------------------------------------

    private void OnSpecLoaded(SpecLoaded loaded)
    {
        if (loaded.Spec is { } spec)
        {
            // A restart or a hand-over: the links, topics and servers come back first (at once with persistence off).
            Become(LoadingWiring);
            _wiring.Load(Context, wiring =>
            {
                VmWiringKeeper.Restore(wiring, _mail.Links, _listeners, TopicMediator, Self, _settings.SendTimeout);
                Adopt(spec, null);
            });
            return;
        }

        // Not registered (never created, or removed): answer what waited, and what still comes
        // before the parent stops this actor, and go away.
        Become(() => Unregistered(
            removed: false,
            loaded.Problem is null ? NotRegistered() : _answers.LookupFailed(loaded.Problem)));
        Stash.UnstashAll();
        Passivate();
    }

    private void Adopt(VmSpec spec, IActorRef? creator)
    {
        _spec = spec;
        _creator = creator;
        _limits = VmRunLimits.Of(spec, _settings, _sizeLimits);
        _mail.Open(_limits.InboxCapacity);
        Enter(VmState.Starting);
        Stash.UnstashAll();
        _factory.Tell(new VmFactoryActor.ResolveBackend(spec));
    }

    /// <summary>
    /// The spec goes (after the storage: RemoveSpecThen, VmActor.Storage.cs), so nothing brings
    /// the VM back; then the process, then the actor.
    /// </summary>
    private void RemoveSpecNow(IActorRef replyTo, RequestFailed? creationFailure) =>
        _specs.RemoveAsync(_vmId).PipeTo(
            Self,
            success: _ => new SpecRemoved(replyTo, creationFailure),
            failure: error => new SpecRemoved(replyTo, creationFailure,
                Persistence.StorageUnavailableException.In(error)?.Message));

    private void OnSpecRemoved(SpecRemoved removed)
    {
        if (removed is { StorageProblem: { } problem, CreationFailure: null })
        {
            // The database did not take the remove: the VM stays, running, and may be removed again.
            removed.ReplyTo.Tell(new RequestFailed(_vmId, ErrorKind.StorageUnavailable, problem));
            return;
        }

        KillInstance();
        // Until the parent has stopped this actor, a request can still reach it (one forwarded
        // before the parent saw the Passivate): it must find the VM gone, not a running VM
        // without a process (seen: GET after a 204 DELETE answered 200).
        Become(() => Unregistered(removed: true, NotRegistered()));
        // The parent hears first, so a create sent after the answer finds the actor stopping.
        Passivate();
        if (removed.CreationFailure is null)
        {
            Context.System.EventStream.Publish(new VmRemoved(_vmId));
        }

        removed.ReplyTo.Tell(removed.CreationFailure ?? (ILuaActorsMessage)new VmRemoved(_vmId));
    }

    private void OnHandOff()
    {
        _handingOff = true;
        StopIfHandedOff();
    }

    private void StopIfHandedOff()
    {
        if (_handingOff && !_pipeline.HasUserRequests)
        {
            Context.Stop(Self);
        }
    }

    /// <summary>Asks the parent (the shard, or the local manager) to stop this actor, for good.</summary>
    private void Passivate() => Context.Parent.Tell(new Passivate(StopVm.Instance));

    // ---- answers ---------------------------------------------------------------------------------

    private RequestFailed NotRegistered() => _answers.NotRegistered();

    private RequestFailed AlreadyExists() => _answers.AlreadyExists();

    private RequestFailed GaveUp() => _answers.GaveUp(_restartPolicy.Restarts, _process.LastError);

    private RequestFailed NotSupported() => _answers.NotSupported(_process.NotSupported);

    private VmInfo Info()
    {
        var pid = _instance?.ProcessId;
        return new VmInfo(
            _vmId,
            _spec?.Type ?? "?",
            _reported,
            pid,
            _node,
            _restartPolicy.Restarts,
            _instance is null ? 0 : _process.UptimeMs(),
            pid is { } p ? Process.ProcessMemory.ResidentBytes(p) : null,
            _pipeline.UserRequestCount + _waiting.Count,
            _process.LastError,
            _sessions.Ids,
            _mail.InboxCount,
            _mail.Links.Peers.ToList(),
            _mail.Links.Topics.ToList(),
            _instance?.ConfinedBy);
    }
}
