using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using LuaActors.Backends;
using LuaActors.Cluster;
using LuaActors.Configuration;
using LuaActors.Diagnostics;
using LuaActors.Messages;
using LuaActors.Process;

namespace LuaActors;

/// <summary>
/// Owns one VM: exactly one interpreter instance at a time, started through the backend that
/// the <see cref="VmFactoryActor"/> resolves for the VM's type. Requests are pipelined to the
/// process and replies matched in order. When the process dies every in-flight request fails
/// at once (Crashed, or Timeout for the one that was killed for running past its deadline), and a
/// new process starts after a backoff, runs the init script again, and serves what waited.
/// When this actor stops, its process is killed.
/// <para>
/// The spec arrives with <see cref="CreateVm"/> or, for a sharded entity that sharding (re)starts
/// with no message from a user, from the <see cref="VmRegistry"/>; requests wait until then.
/// </para>
/// </summary>
public sealed partial class VmActor : ReceiveActor, IWithTimers
{
    /// <summary>Told to the parent when the VM could not be created; the parent answers the creator and stops the VM.</summary>
    public sealed record VmStartFailed(string VmId, IActorRef Creator, RequestFailed Failure);

    /// <summary>
    /// Sharding's hand-off stop message: finish the requests in flight (bounded by their
    /// deadlines), then stop, so a graceful leave loses no request that had reached the VM.
    /// </summary>
    public sealed record HandOff
    {
        public static readonly HandOff Instance = new();
    }

    private sealed record StopVm
    {
        public static readonly StopVm Instance = new();
    }

    private sealed record SpecLoaded(VmSpec? Spec, string? Problem = null);

    private sealed record SpecRemoved(IActorRef ReplyTo, RequestFailed? CreationFailure);

    private sealed record StartInstance
    {
        public static readonly StartInstance Instance = new();
    }

    private sealed record InstanceStarted(int Generation, IVmInstance Instance);

    private sealed record InstanceStartFailed(int Generation, Exception Error);

    private sealed record CheckDeadline
    {
        public static readonly CheckDeadline Instance = new();
    }

    private enum PendingKind
    {
        Limits,
        Init,
        Ready,
        Execute,
        Ping,
        Reset,
        SessionInput,
        Serve,
        RestoreServer,
    }

    private sealed record Pending(uint Id, PendingKind Kind, IActorRef ReplyTo, int TimeoutMs, string? SessionId = null, string? Input = null);

    /// <summary>
    /// An attached interactive session. Its lines are evaluated one at a time (a line may finish
    /// the chunk of the lines before it): <see cref="Unfinished"/> holds an incomplete chunk,
    /// <see cref="Queued"/> the lines that wait for the one being evaluated.
    /// </summary>
    private sealed class Session(IActorRef client)
    {
        public IActorRef Client { get; } = client;

        public string Unfinished { get; set; } = "";

        public bool Evaluating { get; set; }

        public Queue<(string Line, IActorRef Sender)> Queued { get; } = new();
    }

    private const int StderrTailLines = 5;

    private readonly string _vmId;
    private readonly IActorRef _factory;
    private readonly VmSettings _settings;
    private readonly SizeLimits _sizeLimits = SizeLimits.Of(Context.System);
    private readonly VmRegistry? _registry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<Pending> _pending = new();
    private readonly Queue<(IVmCommand Command, IActorRef Sender)> _waiting = new();
    private readonly Queue<long> _recentRestarts = new();
    private readonly Queue<string> _stderrTail = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly string _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

    private VmSpec? _spec;
    private int _timeoutMs;
    private long _memoryBytes;
    private long _outputCap;
    private bool _handingOff;
    private bool _unregistered;
    private IActorRef? _creator;
    private IVmBackend? _backend;
    private IVmInstance? _instance;
    private InstanceExited? _exitedBeforeStart;
    private VmState _state = VmState.Starting;
    private int _generation;
    private uint _nextId;
    private int _restarts;
    private long _instanceStartedAt;
    private long _headStartedAt;
    private uint? _killedForTimeout;
    private string? _lastError;
    private string? _notSupported;
    private bool _deadlineTimerOn;

    /// <param name="registry">The cluster registry for a sharded entity; null for a local child of <see cref="ManagerActor"/>.</param>
    public VmActor(string vmId, IActorRef factory, VmSettings settings, VmRegistry? registry)
    {
        _vmId = vmId;
        _factory = factory;
        _settings = settings;
        _registry = registry;

        Receive<CreateVm>(create => OnCreate(create.Spec, Sender));
        Receive<SpecLoaded>(OnSpecLoaded);
        Receive<RemoveVm>(remove => OnRemove(Sender));
        Receive<SpecRemoved>(OnSpecRemoved);
        Receive<HandOff>(_ => OnHandOff());
        Receive<StopVm>(_ => Context.Stop(Self));
        Receive<VmFactoryActor.BackendResolved>(resolved =>
        {
            _backend = resolved.Backend;
            StartNewInstance();
        });
        Receive<RequestFailed>(rejected => FailCreation(rejected));
        Receive<StartInstance>(_ => StartNewInstance());
        Receive<InstanceStarted>(OnInstanceStarted);
        Receive<InstanceStartFailed>(OnInstanceStartFailed);
        Receive<InstanceFrameReceived>(OnFrame);
        Receive<InstanceExited>(OnExited);
        Receive<InstanceStderrLine>(OnStderr);
        Receive<InstanceProtocolError>(error =>
        {
            if (error.Generation == _generation && _instance is not null)
            {
                LoseInstance("protocol error: " + error.Problem);
            }
        });
        Receive<CheckDeadline>(_ => OnCheckDeadline());
        ReceiveMessaging();
        ReceiveNetworking();
        Receive<Terminated>(terminated => DropSessionsOf(terminated.ActorRef));
        Receive<GetVmInfo>(info =>
        {
            if (_unregistered)
            {
                Sender.Tell(NotRegistered());
            }
            else if (_spec is null && _registry is not null)
            {
                // Not known yet whether this VM exists: answer once the registry has said.
                _waiting.Enqueue((info, Sender));
            }
            else
            {
                Sender.Tell(Info());
            }
        });
        Receive<IVmCommand>(command => Handle(command, Sender));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string vmId, IActorRef factory, VmSettings settings, VmRegistry? registry) =>
        Akka.Actor.Props.Create(() => new VmActor(vmId, factory, settings, registry));

    protected override void PreStart()
    {
        LuaActorsMetrics.VmTracked(Self, _vmId, () => new VmSample(_spec?.Type, _state, _instance?.ProcessId, _inbox?.Count ?? 0, _waiting.Count));
        if (_registry is not null)
        {
            _registry.FindAsync(_vmId).PipeTo(
                Self,
                success: spec => new SpecLoaded(spec),
                failure: error => new SpecLoaded(null, error.GetBaseException().Message));
        }
    }

    protected override void PostStop()
    {
        LuaActorsMetrics.VmUntracked(Self);
        _instance?.Kill();
        _instance = null;
        ForgetListeners();
        var stopped = new RequestFailed(_vmId, ErrorKind.Stopped, $"VM '{_vmId}' was stopped");
        foreach (var pending in _pending.Where(p => IsUserRequest(p.Kind)))
        {
            pending.ReplyTo.Tell(stopped);
        }

        foreach (var (_, sender) in _waiting)
        {
            sender.Tell(stopped);
        }

        _creator?.Tell(stopped);
        FailHostWaits(stopped);
        if (_handingOff)
        {
            HandMessagingOver();
        }

        if (!_handingOff)
        {
            // On a hand-over the sessions follow the VM to its new node instead.
            TellSessions(new VmStopped(_vmId, $"VM '{_vmId}' was removed or stopped"));
        }
    }

    // ---- the spec ----------------------------------------------------------------------------

    private void OnCreate(VmSpec spec, IActorRef creator)
    {
        if (_unregistered && _spec is not null)
        {
            // Removed, and stopping: not a VM to report as created. Undelivered, so the manager
            // sends the create again, to the fresh entity the shard starts after this one stops.
            creator.Tell(new RequestFailed(_vmId, ErrorKind.Stopped, $"VM '{_vmId}' is being removed", Undelivered: true));
        }
        else if (_spec is null)
        {
            Adopt(spec, creator);
        }
        else if (_state is VmState.Starting or VmState.Restarting && _creator is null)
        {
            // The entity had already loaded this spec from the registry: answer when it runs.
            _creator = creator;
        }
        else if (_state is VmState.Running or VmState.NotProvisioned)
        {
            creator.Tell(new VmCreated(Info()));
        }
        else
        {
            creator.Tell(new RequestFailed(_vmId, ErrorKind.AlreadyExists, $"a VM with id '{_vmId}' already exists"));
        }
    }

    private void OnSpecLoaded(SpecLoaded loaded)
    {
        if (_spec is not null)
        {
            return;
        }

        if (loaded.Spec is not null)
        {
            Adopt(loaded.Spec, null);
            return;
        }

        // Not registered (never created, or removed): answer what waited, and what still comes
        // before the passivation stops this entity, and go away.
        _unregistered = loaded.Problem is null;
        var notFound = _unregistered
            ? NotRegistered()
            : new RequestFailed(_vmId, ErrorKind.NotFound, $"VM '{_vmId}' could not be looked up: {loaded.Problem}");
        foreach (var (_, sender) in _waiting)
        {
            sender.Tell(notFound);
        }

        _waiting.Clear();
        Passivate();
    }

    private RequestFailed NotRegistered() => new(_vmId, ErrorKind.NotFound, $"no VM with id '{_vmId}'");

    private void Adopt(VmSpec spec, IActorRef? creator)
    {
        _unregistered = false;
        _spec = spec;
        _creator = creator;
        var limits = spec.Limits ?? VmLimits.Default;
        _timeoutMs = limits.TimeoutMs ?? (int)_settings.DefaultTimeout.TotalMilliseconds;
        _memoryBytes = limits.MemoryMb is { } mb ? mb * (1L << 20) : _settings.MemoryLimitBytes;
        // luaactors.limits.max-output-size is the ceiling of every VM's output cap.
        _outputCap = Math.Min(limits.OutputCapBytes ?? _settings.OutputCapBytes, _sizeLimits.MaxOutputSize);
        CreateInbox(limits);
        _factory.Tell(new VmFactoryActor.ResolveBackend(spec));
    }

    /// <summary>A sharded VM removes its own spec first, so nothing brings it back.</summary>
    private void OnRemove(IActorRef replyTo)
    {
        if (_registry is null)
        {
            replyTo.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, "a local VM is removed by its manager"));
            return;
        }

        if (_unregistered)
        {
            replyTo.Tell(NotRegistered());
            return;
        }

        if (_spec is null)
        {
            _waiting.Enqueue((new RemoveVm(_vmId), replyTo));
            return;
        }

        RemoveSpecThen(replyTo, null);
    }

    private void RemoveSpecThen(IActorRef replyTo, RequestFailed? creationFailure) =>
        _registry!.RemoveAsync(_vmId).PipeTo(
            Self,
            success: _ => new SpecRemoved(replyTo, creationFailure),
            failure: _ => new SpecRemoved(replyTo, creationFailure));

    private void OnSpecRemoved(SpecRemoved removed)
    {
        _instance?.Kill();
        _instance = null;
        // Until the shard has stopped this entity, a request can still reach it (one the shard
        // forwarded before it saw the Passivate): it must find the VM gone, not a running VM
        // without a process (seen: GET after a 204 DELETE answered 200).
        _unregistered = true;
        removed.ReplyTo.Tell(removed.CreationFailure ?? (ILuaActorsMessage)new VmRemoved(_vmId));
        Passivate();
    }

    private void OnHandOff()
    {
        _handingOff = true;
        if (!_pending.Any(p => IsUserRequest(p.Kind)))
        {
            Context.Stop(Self);
        }
    }

    /// <summary>Stops a sharded entity for good (no remember-entities restart); stops a local one.</summary>
    private void Passivate()
    {
        if (_registry is null)
        {
            Context.Stop(Self);
        }
        else
        {
            Context.Parent.Tell(new Passivate(StopVm.Instance));
        }
    }

    // ---- requests ------------------------------------------------------------------------

    private void Handle(IVmCommand command, IActorRef sender)
    {
        if (_unregistered)
        {
            sender.Tell(NotRegistered());
            return;
        }

        if (IsMessagingCommand(command) && _spec is not null && _state is VmState.Running or VmState.Starting or VmState.Restarting)
        {
            // The inbox, peers and topics are the actor's: a (re)starting process does not hold them up.
            HandleMessaging(command, sender);
            return;
        }

        switch (_state)
        {
            case VmState.Running:
                Send(command, sender);
                break;
            case VmState.Starting or VmState.Restarting when _waiting.Count < _settings.MaxBufferedRequests:
                _waiting.Enqueue((command, sender));
                break;
            case VmState.Starting or VmState.Restarting:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.Overloaded,
                    $"{_waiting.Count} requests already wait for VM '{_vmId}' to start"));
                break;
            case VmState.NotProvisioned:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.NotSupported, _notSupported ?? "not supported"));
                break;
            default:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.VmFailed,
                    $"VM '{_vmId}' gave up after {_restarts} restarts (last: {_lastError}); remove and re-create it"));
                break;
        }
    }

    private void Send(IVmCommand command, IActorRef sender)
    {
        switch (command)
        {
            case Execute execute:
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

                var timeout = execute.TimeoutMs ?? _timeoutMs;
                var memoryKb = execute.MemoryMb is { } mb ? Math.Min(mb * 1024L, _memoryBytes / 1024) : 0;
                var op = execute.Mode == ExecuteMode.Repl ? Frame.Ops.Eval : Frame.Ops.Execute;
                Write(op, PendingKind.Execute, sender, timeout, $"{timeout} {memoryKb}\n", execute.Code);
                LuaActorsMetrics.ExecutionStarted(Self, _nextId, execute);
                break;
            case PingVm:
                Write(Frame.Ops.Ping, PendingKind.Ping, sender, _timeoutMs);
                break;
            case ResetVm:
                Write(Frame.Ops.Reset, PendingKind.Reset, sender, _timeoutMs);
                break;
            case RemoveVm:
                OnRemove(sender);
                break;
            case StartServer start:
                StartServerInVm(start, sender);
                break;
            case GetVmInfo:
                sender.Tell(Info());
                break;
            case AttachSession attach:
                _sessions[attach.SessionId] = new Session(sender);
                Context.Watch(sender);
                sender.Tell(new SessionAttached(_vmId, attach.SessionId, _sessions.Keys.Order(StringComparer.Ordinal).ToList()));
                break;
            case DetachSession detach:
                if (_sessions.Remove(detach.SessionId, out var detached) && !_sessions.Values.Any(s => s.Client.Equals(detached.Client)))
                {
                    Context.Unwatch(detached.Client);
                }

                sender.Tell(new SessionDetached(_vmId, detach.SessionId));
                break;
            case SendSessionInput input when _sessions.TryGetValue(input.SessionId, out var session):
                if (session.Evaluating)
                {
                    session.Queued.Enqueue((input.Line, sender));
                }
                else
                {
                    EvaluateSessionLine(input.SessionId, session, input.Line, sender);
                }

                break;
            case SendSessionInput input:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, $"session '{input.SessionId}' is not attached to VM '{_vmId}'"));
                break;
            case var messaging when IsMessagingCommand(messaging):
                HandleMessaging(messaging, sender);
                break;
            case InterruptSession interrupt:
                // Stops the session's chunk if it is in the VM (running or queued there); a no-op otherwise.
                foreach (var pending in _pending.Where(p => p.Kind == PendingKind.SessionInput && p.SessionId == interrupt.SessionId))
                {
                    _instance!.Send(Frame.Encode(Frame.Ops.Interrupt, pending.Id, ReadOnlySpan<byte>.Empty));
                }

                break;
            default:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest,
                    $"a VM does not handle {command.GetType().Name}"));
                break;
        }
    }

    private void Write(
        byte op, PendingKind kind, IActorRef replyTo, int timeoutMs, string preamble = "", string body = "",
        string? sessionId = null, string? input = null)
    {
        var id = ++_nextId;
        var frame = preamble.Length == 0 && body.Length == 0
            ? Frame.Encode(op, id, ReadOnlySpan<byte>.Empty)
            : Frame.Encode(op, id, preamble, body);
        if (_pending.Count == 0)
        {
            _headStartedAt = Stopwatch.GetTimestamp();
        }

        _pending.Enqueue(new Pending(id, kind, replyTo, timeoutMs, sessionId, input));
        _instance!.Send(frame);
        if (!_deadlineTimerOn)
        {
            _deadlineTimerOn = true;
            Timers.StartPeriodicTimer(nameof(CheckDeadline), CheckDeadline.Instance, _settings.DeadlineCheckInterval);
        }
    }

    // ---- the process -----------------------------------------------------------------------

    private void StartNewInstance()
    {
        var generation = ++_generation;
        LuaActorsMetrics.VmStarting(Self);
        _exitedBeforeStart = null;
        var start = new InstanceStart(_vmId, generation, Self, _memoryBytes + _settings.AddressSpaceHeadroomBytes, _spec?.Networking ?? false);
        Task<IVmInstance> starting;
        try
        {
            starting = _backend!.StartAsync(start);
        }
        catch (Exception e)
        {
            // A backend that refuses synchronously is handled like one that fails later.
            starting = Task.FromException<IVmInstance>(e);
        }

        starting.PipeTo(
            Self,
            success: instance => new InstanceStarted(generation, instance),
            failure: error => new InstanceStartFailed(generation, error));
    }

    private void OnInstanceStarted(InstanceStarted started)
    {
        if (started.Generation != _generation)
        {
            started.Instance.Kill();
            return;
        }

        _instance = started.Instance;
        _instanceStartedAt = Stopwatch.GetTimestamp();
        if (_exitedBeforeStart is { } exited)
        {
            LoseInstance("process " + exited.Description);
            return;
        }

        var limits = $"timeout_ms={_timeoutMs}\nmemory_kb={_memoryBytes / 1024}\noutput_cap={_outputCap}\nresult_cap={_sizeLimits.MaxResultSize}\nrep_cap={_settings.StringRepCapBytes}\nvm_id={_vmId}\n";
        if (_spec!.Networking)
        {
            limits += _settings.Networking.LimitLines();
        }

        Write(Frame.Ops.Limits, PendingKind.Limits, Self, _timeoutMs, limits);
        if (!string.IsNullOrEmpty(_spec!.InitScript))
        {
            Write(Frame.Ops.Execute, PendingKind.Init, Self, _timeoutMs, "0 0\n", _spec!.InitScript);
        }

        RestoreServers();

        Write(Frame.Ops.Ping, PendingKind.Ready, Self, _timeoutMs);
    }

    private void OnInstanceStartFailed(InstanceStartFailed failed)
    {
        if (failed.Generation != _generation)
        {
            return;
        }

        if (failed.Error is VmBackendNotSupportedException notSupported)
        {
            _state = VmState.NotProvisioned;
            _notSupported = notSupported.Message;
            _creator?.Tell(new VmCreated(Info()));
            _creator = null;
            foreach (var (command, sender) in _waiting)
            {
                Handle(command, sender);
            }

            _waiting.Clear();
            return;
        }

        LoseInstance(
            "could not start the interpreter: " + failed.Error.GetBaseException().Message,
            failed.Error.GetBaseException() is ResourceExhaustedException ? ErrorKind.ResourceExhausted : ErrorKind.Crashed);
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

        if (!_pending.TryPeek(out var head) || head.Id != frame.Id)
        {
            LoseInstance($"protocol error: reply {frame.Id} does not match the oldest request {head?.Id}");
            return;
        }

        _pending.Dequeue();
        _headStartedAt = Stopwatch.GetTimestamp();

        switch (head.Kind)
        {
            case PendingKind.Execute:
                // Too big a reply would be dropped on its way to another node: TooLarge instead, here too.
                head.ReplyTo.Tell(LuaActorsMetrics.ExecutionCompleted(Self, head.Id, _sizeLimits.CheckReply(_vmId, Replies.FromExecution(_vmId, frame))));
                break;
            case PendingKind.Ping:
                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok
                    ? new VmPong(_vmId, Encoding.UTF8.GetString(frame.Payload.Span))
                    : Replies.FromExecution(_vmId, frame));
                break;
            case PendingKind.Reset:
                if (frame.Op == Frame.Ops.Ok)
                {
                    // The reset closed every socket: no listener is left to register or to restore.
                    ForgetListeners();
                    _servers.Clear();
                }

                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok ? new VmWasReset(_vmId) : Replies.FromExecution(_vmId, frame));
                break;
            case PendingKind.Serve:
                OnServeReply(head, Replies.FromExecution(_vmId, frame));
                break;
            case PendingKind.RestoreServer:
                OnServerRestored(head, Replies.FromExecution(_vmId, frame));
                break;
            case PendingKind.Limits when frame.Op != Frame.Ops.Ok:
                LoseInstance("the VM refused its limits: " + Replies.Describe(_vmId, frame));
                break;
            case PendingKind.Init when frame.Op != Frame.Ops.Ok && frame.Op != Frame.Ops.Result:
                OnInitFailed(Replies.FromExecution(_vmId, frame));
                break;
            case PendingKind.Ready:
                OnReady();
                break;
            case PendingKind.SessionInput:
                OnSessionInputEvaluated(head, _sizeLimits.CheckReply(_vmId, Replies.FromExecution(_vmId, frame)));
                break;
        }

        if (_handingOff && !_pending.Any(p => IsUserRequest(p.Kind)))
        {
            Context.Stop(Self);
        }
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

    private void OnInitFailed(ILuaActorsMessage reply)
    {
        var failure = reply as RequestFailed;
        var message = $"init script failed: {failure?.Kind}: {failure?.Message}";
        _lastError = message;
        if (_creator is not null)
        {
            FailCreation(new RequestFailed(_vmId, ErrorKind.InitFailed, message,
                failure?.Traceback ?? "", failure?.Output ?? "", failure?.OutputTruncated ?? false));
            return;
        }

        _log.Error("VM {0}: {1}", _vmId, message);
        LoseInstance(message);
    }

    private void OnReady()
    {
        var restarted = _state == VmState.Restarting;
        LuaActorsMetrics.VmReady(Self, restarted);
        _state = VmState.Running;
        if (_creator is not null)
        {
            _creator.Tell(new VmCreated(Info()));
            _creator = null;
        }

        if (restarted)
        {
            _log.Info("VM {0} answers again after restart {1} ({2})", _vmId, _restarts, _lastError);
            var restartedEvent = new VmRestarted(_vmId, _restarts, _lastError ?? "");
            Context.System.EventStream.Publish(restartedEvent);
            TellSessions(restartedEvent);
        }

        while (_state == VmState.Running && _waiting.TryDequeue(out var waiting))
        {
            Send(waiting.Command, waiting.Sender);
        }
    }

    private void OnExited(InstanceExited exited)
    {
        if (exited.Generation != _generation)
        {
            return;
        }

        if (_instance is null)
        {
            // The exit overtook the start notice (the interpreter could not even be executed).
            _exitedBeforeStart = exited;
            return;
        }

        LoseInstance("process " + exited.Description);
    }

    private void OnStderr(InstanceStderrLine line)
    {
        _log.Warning("VM {0} stderr: {1}", _vmId, line.Line);
        if (_stderrTail.Count == StderrTailLines)
        {
            _stderrTail.Dequeue();
        }

        _stderrTail.Enqueue(line.Line);
    }

    private void OnCheckDeadline()
    {
        if (!_pending.TryPeek(out var head) || _instance is null)
        {
            Timers.Cancel(nameof(CheckDeadline));
            _deadlineTimerOn = false;
            return;
        }

        var running = Stopwatch.GetElapsedTime(_headStartedAt);
        if (running <= TimeSpan.FromMilliseconds(head.TimeoutMs) + _settings.KillGrace)
        {
            return;
        }

        _killedForTimeout = head.Id;
        LoseInstance($"request {head.Id} still ran {running.TotalMilliseconds:F0} ms after it started " +
            $"(limit {head.TimeoutMs} ms + {_settings.KillGrace.TotalMilliseconds:F0} ms grace): killed");
    }

    /// <summary>
    /// The instance is gone (or is killed now): fail what was in flight, then restart with
    /// backoff, or give up when the restart intensity is exhausted.
    /// </summary>
    /// <param name="creationFailure">What a create still waiting for this VM is answered.</param>
    private void LoseInstance(string reason, ErrorKind creationFailure = ErrorKind.Crashed)
    {
        _instance?.Kill();
        _instance = null;
        _inbox?.DropWaits();
        ForgetListeners();
        _generation++;
        _lastError = _stderrTail.Count > 0 ? $"{reason}; stderr: {string.Join(" | ", _stderrTail)}" : reason;
        _log.Warning("VM {0}: {1}", _vmId, _lastError);

        LuaActorsMetrics.ExecutionsLost(Self, _killedForTimeout);
        foreach (var pending in _pending.Where(p => IsUserRequest(p.Kind)))
        {
            pending.ReplyTo.Tell(pending.Id == _killedForTimeout
                ? new RequestFailed(_vmId, ErrorKind.Timeout,
                    $"timeout: the request ran past its {pending.TimeoutMs} ms limit and the {_settings.KillGrace.TotalMilliseconds:F0} ms grace (stuck in a C function?); the VM was restarted")
                : new RequestFailed(_vmId, ErrorKind.Crashed, $"VM '{_vmId}' crashed: {reason}; it restarts"));
        }

        _pending.Clear();
        _killedForTimeout = null;
        foreach (var (sessionId, session) in _sessions)
        {
            // A chunk half typed into the dead process is gone; lines still queued go to the new one.
            session.Evaluating = false;
            session.Unfinished = "";
            while (session.Queued.TryDequeue(out var queued))
            {
                _waiting.Enqueue((new SendSessionInput(_vmId, sessionId, queued.Line), queued.Sender));
            }
        }
        _stderrTail.Clear();

        if (_creator is not null)
        {
            FailCreation(new RequestFailed(_vmId, creationFailure, $"VM '{_vmId}' did not start: {_lastError}"));
            return;
        }

        _restarts++;
        LuaActorsMetrics.VmRestarted(Self, reason);
        var now = Stopwatch.GetTimestamp();
        _recentRestarts.Enqueue(now);
        while (_recentRestarts.Count > 0 && Stopwatch.GetElapsedTime(_recentRestarts.Peek(), now) > _settings.RestartWindow)
        {
            _recentRestarts.Dequeue();
        }

        if (_recentRestarts.Count > _settings.MaxRestarts)
        {
            _state = VmState.Failed;
            _log.Error("VM {0} gave up: {1} restarts within {2}", _vmId, _recentRestarts.Count, _settings.RestartWindow);
            Context.System.EventStream.Publish(new VmGaveUp(_vmId, _restarts, _lastError));
            foreach (var (command, sender) in _waiting)
            {
                Handle(command, sender);
            }

            _waiting.Clear();
            return;
        }

        _state = VmState.Restarting;
        var backoff = RestartBackoff(_recentRestarts.Count);
        if (backoff <= TimeSpan.Zero)
        {
            StartNewInstance();
        }
        else
        {
            Timers.StartSingleTimer(nameof(StartInstance), StartInstance.Instance, backoff);
        }
    }

    private TimeSpan RestartBackoff(int restartsInWindow)
    {
        if (restartsInWindow <= 1)
        {
            return TimeSpan.Zero;
        }

        var doubled = _settings.RestartBaseBackoff * Math.Pow(2, Math.Min(restartsInWindow - 2, 30));
        return doubled < _settings.RestartMaxBackoff ? doubled : _settings.RestartMaxBackoff;
    }

    private void FailCreation(RequestFailed failure)
    {
        var creator = _creator ?? ActorRefs.Nobody;
        _creator = null;
        _instance?.Kill();
        _instance = null;
        _inbox?.DropWaits();
        ForgetListeners();
        _state = VmState.Failed;
        if (_registry is null)
        {
            Context.Parent.Tell(new VmStartFailed(_vmId, creator, failure));
        }
        else
        {
            // Forget the spec before answering, so the caller can retry with a fixed one at once.
            RemoveSpecThen(creator, failure);
        }
    }

    private static bool IsUserRequest(PendingKind kind) =>
        kind is PendingKind.Execute or PendingKind.Ping or PendingKind.Reset or PendingKind.SessionInput or PendingKind.Serve;

    // ---- sessions --------------------------------------------------------------------------

    private void EvaluateSessionLine(string sessionId, Session session, string line, IActorRef sender)
    {
        // Like lua -i: the lines of an unfinished chunk are read again with the next line.
        var chunk = session.Unfinished.Length > 0 ? session.Unfinished + "\n" + line : line;
        session.Evaluating = true;
        Write(Frame.Ops.Eval, PendingKind.SessionInput, sender, _timeoutMs, $"{_timeoutMs} 0\n", chunk, sessionId, chunk);
    }

    private void OnSessionInputEvaluated(Pending request, ILuaActorsMessage reply)
    {
        if (!_sessions.TryGetValue(request.SessionId!, out var session))
        {
            return;
        }

        session.Evaluating = false;
        try
        {
            ReportSessionInput(request, session, reply);
        }
        finally
        {
            if (session.Queued.TryDequeue(out var next))
            {
                EvaluateSessionLine(request.SessionId!, session, next.Line, next.Sender);
            }
        }
    }

    private void ReportSessionInput(Pending request, Session session, ILuaActorsMessage reply)
    {
        if (reply is RequestFailed { Kind: ErrorKind.Incomplete })
        {
            session.Unfinished = request.Input!;
            session.Client.Tell(new SessionInputEvaluated(_vmId, request.SessionId!, request.Input!, "", null, null, null, Incomplete: true));
            return;
        }

        session.Unfinished = "";
        TellSessions(reply switch
        {
            Executed executed => new SessionInputEvaluated(_vmId, request.SessionId!, request.Input!, executed.Output,
                executed.Count > 0 ? executed.ValuesJson : null, null, null, Incomplete: false),
            RequestFailed failed => new SessionInputEvaluated(_vmId, request.SessionId!, request.Input!, failed.Output,
                null, failed.Kind, failed.Message, Incomplete: false),
            _ => reply,
        });
    }

    /// <summary>Every session sees the VM's story: everyone's inputs, outputs, restarts.</summary>
    private void TellSessions(ILuaActorsMessage message)
    {
        foreach (var client in _sessions.Values.Select(s => s.Client).Distinct())
        {
            client.Tell(message);
        }
    }

    /// <summary>A session's client died (its actor, its connection, its node): forget its sessions.</summary>
    private void DropSessionsOf(IActorRef client)
    {
        foreach (var id in _sessions.Where(s => s.Value.Client.Equals(client)).Select(s => s.Key).ToList())
        {
            _sessions.Remove(id);
        }
    }

    private VmInfo Info()
    {
        var pid = _instance?.ProcessId;
        return new VmInfo(
            _vmId,
            _spec?.Type ?? "?",
            _state,
            pid,
            _node,
            _restarts,
            _instance is null ? 0 : (long)Stopwatch.GetElapsedTime(_instanceStartedAt).TotalMilliseconds,
            pid is { } p ? ProcessMemory.ResidentBytes(p) : null,
            _pending.Count(p => IsUserRequest(p.Kind)) + _waiting.Count,
            _lastError,
            _sessions.Keys.Order(StringComparer.Ordinal).ToList(),
            _inbox?.Count ?? 0,
            _peers.ToList(),
            _topics.ToList(),
            _instance?.ConfinedBy);
    }
}
