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
/// The VM's process: starting one (generation by generation, so notices of a stale one are
/// ignored), its start-up requests (limits, init script, restored servers, ready), its end, and
/// the restart policy that decides what follows.
/// </summary>
public sealed partial class VmActor
{
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

    private const int StderrTailLines = 5;

    private readonly StderrTail _stderrTail = new(StderrTailLines);
    private IVmBackend? _backend;
    private IVmInstance? _instance;
    private InstanceExited? _exitedBeforeStart;
    private int _generation;
    private long _instanceStartedAt;
    private string? _lastError;
    private string? _notSupported;
    private bool _deadlineTimerOn;

    /// <summary>Notices of the process, in every state: a stale generation's are ignored (a stale instance killed).</summary>
    private void ReceiveProcessEvents()
    {
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
    }

    private void StartNewInstance()
    {
        var generation = ++_generation;
        LuaActorsMetrics.VmStarting(Self);
        _exitedBeforeStart = null;
        var start = new InstanceStart(_vmId, generation, Self, _limits.MemoryBytes + _settings.AddressSpaceHeadroomBytes, _spec!.Networking);
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
        _instanceStartedAt = TimeProvider.System.GetTimestamp();
        if (_exitedBeforeStart is { } exited)
        {
            LoseInstance("process " + exited.Description);
            return;
        }

        var networking = _spec!.Networking ? _settings.Networking.WireLimits() : null;
        Write(RequestKind.Limits, Self, _limits.TimeoutMs,
            id => HostFrames.Limits(id, new HostLimits(
                _limits.TimeoutMs, _limits.MemoryBytes / 1024, _limits.OutputCap, _sizeLimits.MaxResultSize, _settings.StringRepCapBytes, _vmId, networking)));
        if (!string.IsNullOrEmpty(_spec.InitScript))
        {
            Write(RequestKind.Init, Self, _limits.TimeoutMs, id => HostFrames.Execute(id, 0, 0, _spec.InitScript));
        }

        RestoreServers();
        Write(RequestKind.Ready, Self, _limits.TimeoutMs, HostFrames.Ping);
    }

    private void OnInstanceStartFailed(InstanceStartFailed failed)
    {
        if (failed.Generation != _generation)
        {
            return;
        }

        if (failed.Error is VmBackendNotSupportedException notSupported)
        {
            _notSupported = notSupported.Message;
            Enter(VmState.NotProvisioned);
            _creator?.Tell(new VmCreated(Info()));
            _creator = null;
            AnswerWaiting(NotSupported());
            return;
        }

        LoseInstance(
            "could not start the interpreter: " + failed.Error.GetBaseException().Message,
            failed.Error.GetBaseException() switch
            {
                CapacityExceededException => ErrorKind.Capacity,
                ResourceExhaustedException => ErrorKind.ResourceExhausted,
                _ => ErrorKind.Crashed,
            });
    }

    /// <summary>Writes a request of <paramref name="kind"/> to the process, its frame built with the request's id.</summary>
    private PendingRequest Write(
        RequestKind kind, IActorRef replyTo, int timeoutMs, Func<uint, HostFrame> frame, string? sessionId = null, string? input = null)
    {
        var request = _pipeline.Add(kind, replyTo, timeoutMs, sessionId, input);
        _instance!.Send(frame(request.Id));
        if (!_deadlineTimerOn)
        {
            _deadlineTimerOn = true;
            Timers.StartPeriodicTimer(nameof(CheckDeadline), CheckDeadline.Instance, _settings.DeadlineCheckInterval);
        }

        return request;
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
        var restarted = _reported == VmState.Restarting;
        LuaActorsMetrics.VmReady(Self, restarted);
        Enter(VmState.Running);
        if (!restarted)
        {
            Context.System.EventStream.Publish(new VmStarted(_vmId, _spec!.Type, _instance?.ProcessId, Created: _creator is not null));
        }

        if (_creator is not null)
        {
            _creator.Tell(new VmCreated(Info()));
            _creator = null;
        }

        if (restarted)
        {
            _log.Info("VM {0} answers again after restart {1} ({2})", _vmId, _restartPolicy.Restarts, _lastError);
            var restartedEvent = new VmRestarted(_vmId, _restartPolicy.Restarts, _lastError ?? "");
            Context.System.EventStream.Publish(restartedEvent);
            TellSessions(restartedEvent);
        }

        while (_reported == VmState.Running && _waiting.TryDequeue(out var waiting))
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
        _stderrTail.Add(line.Line);
    }

    private void OnCheckDeadline()
    {
        if (_instance is null || _pipeline.Count == 0)
        {
            Timers.Cancel(nameof(CheckDeadline));
            _deadlineTimerOn = false;
            return;
        }

        if (_pipeline.Overdue(_settings.KillGrace, out var running) is { } head)
        {
            LoseInstance($"request {head.Id} still ran {running.TotalMilliseconds:F0} ms after it started " +
                $"(limit {head.TimeoutMs} ms + {_settings.KillGrace.TotalMilliseconds:F0} ms grace): killed");
        }
    }

    /// <summary>
    /// The instance is gone (or is killed now): fail what was in flight, then restart with
    /// backoff, or give up when the restart intensity is exhausted.
    /// </summary>
    /// <param name="creationFailure">What a create still waiting for this VM is answered.</param>
    private void LoseInstance(string reason, ErrorKind creationFailure = ErrorKind.Crashed)
    {
        KillInstance();
        _generation++;
        _lastError = _stderrTail.Explain(reason);
        _log.Warning("VM {0}: {1}", _vmId, _lastError);
        Context.System.EventStream.Publish(new VmCrashed(_vmId, _lastError));
        var abandoned = _pipeline.Abandon();
        LuaActorsMetrics.ExecutionsLost(Self, abandoned.Where(a => a.TimedOut).Select(a => (uint?)a.Request.Id).FirstOrDefault());
        foreach (var (pending, timedOut) in abandoned)
        {
            pending.ReplyTo.Tell(timedOut
                ? new RequestFailed(_vmId, ErrorKind.Timeout,
                    $"timeout: the request ran past its {pending.TimeoutMs} ms limit and the {_settings.KillGrace.TotalMilliseconds:F0} ms grace (stuck in a C function?); the VM was restarted")
                : new RequestFailed(_vmId, ErrorKind.Crashed, $"VM '{_vmId}' crashed: {reason}; it restarts"));
        }

        // A chunk half typed into the dead process is gone; lines still queued go to the new one.
        foreach (var (sessionId, line, sender) in _sessions.ResetAfterCrash())
        {
            _waiting.Enqueue((new SendSessionInput(_vmId, sessionId, line), sender));
        }

        if (_creator is not null)
        {
            FailCreation(new RequestFailed(_vmId, creationFailure, $"VM '{_vmId}' did not start: {_lastError}"));
            return;
        }

        var decision = _restartPolicy.RecordRestart();
        if (decision.GiveUp)
        {
            Enter(VmState.Failed);
            _log.Error("VM {0} gave up: {1} restarts within {2}", _vmId, decision.RestartsInWindow, _restartPolicy.Window);
            Context.System.EventStream.Publish(new VmGaveUp(_vmId, _restartPolicy.Restarts, _lastError));
            AnswerWaiting(GaveUp());
            return;
        }

        LuaActorsMetrics.VmRestarted(Self, reason);
        Enter(VmState.Restarting);
        if (decision.Backoff <= TimeSpan.Zero)
        {
            StartNewInstance();
        }
        else
        {
            Timers.StartSingleTimer(nameof(StartInstance), StartInstance.Instance, decision.Backoff);
        }
    }

    /// <summary>The first start failed: the spec goes (so a fixed one can be created at once), then the actor.</summary>
    private void FailCreation(RequestFailed failure)
    {
        var creator = _creator ?? ActorRefs.Nobody;
        _creator = null;
        KillInstance();
        Enter(VmState.Failed);
        RemoveSpecThen(creator, failure);
    }

    /// <summary>Ends the process (if any) and what belonged to it: the inbox's waits, the listeners.</summary>
    private void KillInstance()
    {
        _instance?.Kill();
        _instance = null;
        _mail.Inbox?.DropWaits();
        ForgetListeners();
    }

    private void AnswerWaiting(RequestFailed answer)
    {
        foreach (var (_, sender) in _waiting)
        {
            sender.Tell(answer);
        }

        _waiting.Clear();
    }
}
