using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Akka.Event;
using LuaActors.Backends;
using LuaActors.Configuration;
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
/// </summary>
public sealed class VmActor : ReceiveActor, IWithTimers
{
    /// <summary>Told to the parent when the VM could not be created; the parent answers the creator and stops the VM.</summary>
    public sealed record VmStartFailed(string VmId, IActorRef Creator, RequestFailed Failure);

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
    }

    private sealed record Pending(uint Id, PendingKind Kind, IActorRef ReplyTo, int TimeoutMs);

    private const int StderrTailLines = 5;

    private readonly VmSpec _spec;
    private readonly IActorRef _factory;
    private readonly VmSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<Pending> _pending = new();
    private readonly Queue<(IVmCommand Command, IActorRef Sender)> _waiting = new();
    private readonly Queue<long> _recentRestarts = new();
    private readonly Queue<string> _stderrTail = new();
    private readonly int _timeoutMs;
    private readonly long _memoryBytes;
    private readonly long _outputCap;
    private readonly string _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

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

    public VmActor(VmSpec spec, IActorRef factory, IActorRef? creator, VmSettings settings)
    {
        _spec = spec;
        _factory = factory;
        _creator = creator;
        _settings = settings;
        var limits = spec.Limits ?? VmLimits.Default;
        _timeoutMs = limits.TimeoutMs ?? (int)settings.DefaultTimeout.TotalMilliseconds;
        _memoryBytes = limits.MemoryMb is { } mb ? mb * (1L << 20) : settings.MemoryLimitBytes;
        _outputCap = limits.OutputCapBytes ?? settings.OutputCapBytes;

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
        Receive<GetVmInfo>(_ => Sender.Tell(Info()));
        Receive<IVmCommand>(command => Handle(command, Sender));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(VmSpec spec, IActorRef factory, IActorRef? creator, VmSettings settings) =>
        Akka.Actor.Props.Create(() => new VmActor(spec, factory, creator, settings));

    protected override void PreStart() => _factory.Tell(new VmFactoryActor.ResolveBackend(_spec));

    protected override void PostStop()
    {
        _instance?.Kill();
        _instance = null;
        var stopped = new RequestFailed(_spec.VmId, ErrorKind.Stopped, $"VM '{_spec.VmId}' was stopped");
        foreach (var pending in _pending.Where(p => IsUserRequest(p.Kind)))
        {
            pending.ReplyTo.Tell(stopped);
        }

        foreach (var (_, sender) in _waiting)
        {
            sender.Tell(stopped);
        }

        _creator?.Tell(stopped);
    }

    // ---- requests ------------------------------------------------------------------------

    private void Handle(IVmCommand command, IActorRef sender)
    {
        switch (_state)
        {
            case VmState.Running:
                Send(command, sender);
                break;
            case VmState.Starting or VmState.Restarting when _waiting.Count < _settings.MaxBufferedRequests:
                _waiting.Enqueue((command, sender));
                break;
            case VmState.Starting or VmState.Restarting:
                sender.Tell(new RequestFailed(_spec.VmId, ErrorKind.Overloaded,
                    $"{_waiting.Count} requests already wait for VM '{_spec.VmId}' to start"));
                break;
            case VmState.NotProvisioned:
                sender.Tell(new RequestFailed(_spec.VmId, ErrorKind.NotSupported, _notSupported ?? "not supported"));
                break;
            default:
                sender.Tell(new RequestFailed(_spec.VmId, ErrorKind.VmFailed,
                    $"VM '{_spec.VmId}' gave up after {_restarts} restarts (last: {_lastError}); remove and re-create it"));
                break;
        }
    }

    private void Send(IVmCommand command, IActorRef sender)
    {
        switch (command)
        {
            case Execute execute:
                if (execute.TimeoutMs is <= 0 || execute.MemoryMb is <= 0)
                {
                    sender.Tell(new RequestFailed(_spec.VmId, ErrorKind.InvalidRequest,
                        "TimeoutMs and MemoryMb must be positive when given"));
                    return;
                }

                var timeout = execute.TimeoutMs ?? _timeoutMs;
                var memoryKb = execute.MemoryMb is { } mb ? Math.Min(mb * 1024L, _memoryBytes / 1024) : 0;
                var op = execute.Mode == ExecuteMode.Repl ? Frame.Ops.Eval : Frame.Ops.Execute;
                Write(op, PendingKind.Execute, sender, timeout, $"{timeout} {memoryKb}\n", execute.Code);
                break;
            case PingVm:
                Write(Frame.Ops.Ping, PendingKind.Ping, sender, _timeoutMs);
                break;
            case ResetVm:
                Write(Frame.Ops.Reset, PendingKind.Reset, sender, _timeoutMs);
                break;
            default:
                sender.Tell(new RequestFailed(_spec.VmId, ErrorKind.InvalidRequest,
                    $"a VM does not handle {command.GetType().Name}"));
                break;
        }
    }

    private void Write(byte op, PendingKind kind, IActorRef replyTo, int timeoutMs, string preamble = "", string body = "")
    {
        var id = ++_nextId;
        var frame = preamble.Length == 0 && body.Length == 0
            ? Frame.Encode(op, id, ReadOnlySpan<byte>.Empty)
            : Frame.Encode(op, id, preamble, body);
        if (_pending.Count == 0)
        {
            _headStartedAt = Stopwatch.GetTimestamp();
        }

        _pending.Enqueue(new Pending(id, kind, replyTo, timeoutMs));
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
        _exitedBeforeStart = null;
        var start = new InstanceStart(_spec.VmId, generation, Self, _memoryBytes + _settings.AddressSpaceHeadroomBytes);
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

        var limits = $"timeout_ms={_timeoutMs}\nmemory_kb={_memoryBytes / 1024}\noutput_cap={_outputCap}\nrep_cap={_settings.StringRepCapBytes}\n";
        Write(Frame.Ops.Limits, PendingKind.Limits, Self, _timeoutMs, limits);
        if (!string.IsNullOrEmpty(_spec.InitScript))
        {
            Write(Frame.Ops.Execute, PendingKind.Init, Self, _timeoutMs, "0 0\n", _spec.InitScript);
        }

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

        LoseInstance("could not start the interpreter: " + failed.Error.GetBaseException().Message);
    }

    private void OnFrame(InstanceFrameReceived received)
    {
        if (received.Generation != _generation || _instance is null)
        {
            return;
        }

        var frame = received.Frame;
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
                head.ReplyTo.Tell(Replies.FromExecution(_spec.VmId, frame));
                break;
            case PendingKind.Ping:
                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok
                    ? new VmPong(_spec.VmId, Encoding.UTF8.GetString(frame.Payload.Span))
                    : Replies.FromExecution(_spec.VmId, frame));
                break;
            case PendingKind.Reset:
                head.ReplyTo.Tell(frame.Op == Frame.Ops.Ok ? new VmWasReset(_spec.VmId) : Replies.FromExecution(_spec.VmId, frame));
                break;
            case PendingKind.Limits when frame.Op != Frame.Ops.Ok:
                LoseInstance("the VM refused its limits: " + Replies.Describe(_spec.VmId, frame));
                break;
            case PendingKind.Init when frame.Op != Frame.Ops.Ok && frame.Op != Frame.Ops.Result:
                OnInitFailed(Replies.FromExecution(_spec.VmId, frame));
                break;
            case PendingKind.Ready:
                OnReady();
                break;
        }
    }

    private void OnInitFailed(ILuaActorsMessage reply)
    {
        var failure = reply as RequestFailed;
        var message = $"init script failed: {failure?.Kind}: {failure?.Message}";
        _lastError = message;
        if (_creator is not null)
        {
            FailCreation(new RequestFailed(_spec.VmId, ErrorKind.InitFailed, message,
                failure?.Traceback ?? "", failure?.Output ?? "", failure?.OutputTruncated ?? false));
            return;
        }

        _log.Error("VM {0}: {1}", _spec.VmId, message);
        LoseInstance(message);
    }

    private void OnReady()
    {
        var restarted = _state == VmState.Restarting;
        _state = VmState.Running;
        if (_creator is not null)
        {
            _creator.Tell(new VmCreated(Info()));
            _creator = null;
        }

        if (restarted)
        {
            _log.Info("VM {0} answers again after restart {1} ({2})", _spec.VmId, _restarts, _lastError);
            Context.System.EventStream.Publish(new VmRestarted(_spec.VmId, _restarts, _lastError ?? ""));
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
        _log.Warning("VM {0} stderr: {1}", _spec.VmId, line.Line);
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
    private void LoseInstance(string reason)
    {
        _instance?.Kill();
        _instance = null;
        _generation++;
        _lastError = _stderrTail.Count > 0 ? $"{reason}; stderr: {string.Join(" | ", _stderrTail)}" : reason;
        _log.Warning("VM {0}: {1}", _spec.VmId, _lastError);

        foreach (var pending in _pending.Where(p => IsUserRequest(p.Kind)))
        {
            pending.ReplyTo.Tell(pending.Id == _killedForTimeout
                ? new RequestFailed(_spec.VmId, ErrorKind.Timeout,
                    $"timeout: the request ran past its {pending.TimeoutMs} ms limit and the {_settings.KillGrace.TotalMilliseconds:F0} ms grace (stuck in a C function?); the VM was restarted")
                : new RequestFailed(_spec.VmId, ErrorKind.Crashed, $"VM '{_spec.VmId}' crashed: {reason}; it restarts"));
        }

        _pending.Clear();
        _killedForTimeout = null;
        _stderrTail.Clear();

        if (_creator is not null)
        {
            FailCreation(new RequestFailed(_spec.VmId, ErrorKind.Crashed, $"VM '{_spec.VmId}' did not start: {_lastError}"));
            return;
        }

        _restarts++;
        var now = Stopwatch.GetTimestamp();
        _recentRestarts.Enqueue(now);
        while (_recentRestarts.Count > 0 && Stopwatch.GetElapsedTime(_recentRestarts.Peek(), now) > _settings.RestartWindow)
        {
            _recentRestarts.Dequeue();
        }

        if (_recentRestarts.Count > _settings.MaxRestarts)
        {
            _state = VmState.Failed;
            _log.Error("VM {0} gave up: {1} restarts within {2}", _spec.VmId, _recentRestarts.Count, _settings.RestartWindow);
            Context.System.EventStream.Publish(new VmGaveUp(_spec.VmId, _restarts, _lastError));
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
        _state = VmState.Failed;
        Context.Parent.Tell(new VmStartFailed(_spec.VmId, creator, failure));
    }

    private static bool IsUserRequest(PendingKind kind) => kind is PendingKind.Execute or PendingKind.Ping or PendingKind.Reset;

    private VmInfo Info()
    {
        var pid = _instance?.ProcessId;
        return new VmInfo(
            _spec.VmId,
            _spec.Type,
            _state,
            pid,
            _node,
            _restarts,
            _instance is null ? 0 : (long)Stopwatch.GetElapsedTime(_instanceStartedAt).TotalMilliseconds,
            pid is { } p ? ProcessMemory.ResidentBytes(p) : null,
            _pending.Count(p => IsUserRequest(p.Kind)) + _waiting.Count,
            _lastError);
    }
}
