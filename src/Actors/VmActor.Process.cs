using Akka.Actor;
using Akka.Event;
using LuaActors.Diagnostics;
using LuaActors.Protocol;
using LuaActors.Backends;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// The VM's process: starting one (generation by generation, so notices of a stale one are
/// ignored), its start-up requests, its end, and what the <see cref="ProcessLifecycle"/> says follows.
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

    private readonly ProcessLifecycle _process;
    private IVmBackend? _backend;
    private IVmInstance? _instance;
    private int _generation;
    private bool _deadlineTimerOn;

    /// <summary>Notices of the process, in every state: a stale generation's are ignored (a stale instance killed).</summary>
    private void ReceiveProcessEvents()
    {
        Receive<InstanceStarted>(OnInstanceStarted);
        Receive<InstanceStartFailed>(OnInstanceStartFailed);
        Receive<InstanceFrameReceived>(OnFrame);
        Receive<InstanceExited>(OnExited);
        Receive<InstanceStderrLine>(line =>
        {
            _log.Warning("VM {0} stderr: {1}", _vmId, line.Line);
            _process.Stderr(line.Line);
        });
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
        _process.Starting();
        var start = new InstanceStart(_vmId, generation, Self, _limits.MemoryBytes + _settings.AddressSpaceHeadroomBytes, _spec!.Networking);
        ProcessLifecycle.Start(_backend!, start).PipeTo(
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
        if (_process.Started() is { } lost)
        {
            LoseInstance(lost);
            return;
        }

        var limits = new HostLimits(_limits.TimeoutMs, _limits.MemoryBytes / 1024, _limits.OutputCap, _sizeLimits.MaxResultSize,
            _settings.StringRepCapBytes, _vmId, _spec!.Networking ? _settings.Networking.WireLimits() : null);
        foreach (var request in ProcessLifecycle.StartupRequests(limits, _spec.InitScript, _listeners.Servers))
        {
            Write(request.Kind, Self, _limits.TimeoutMs, request.Frame, input: request.Input);
        }
    }

    private void OnInstanceStartFailed(InstanceStartFailed failed)
    {
        if (failed.Generation != _generation)
        {
            return;
        }

        if (!_process.StartFailed(failed.Error, out var reason, out var creationFailure))
        {
            LoseInstance(reason, creationFailure);
            return;
        }

        Enter(VmState.NotProvisioned);
        _creator?.Tell(new VmCreated(Info()));
        _creator = null;
        AnswerWaiting(NotSupported());
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
        var failure = _process.InitFailed(_vmId, reply as RequestFailed);
        if (_creator is not null)
        {
            FailCreation(failure);
            return;
        }

        _log.Error("VM {0}: {1}", _vmId, failure.Message);
        LoseInstance(failure.Message);
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

        _creator?.Tell(new VmCreated(Info()));
        _creator = null;
        if (restarted)
        {
            _log.Info("VM {0} answers again after restart {1} ({2})", _vmId, _restartPolicy.Restarts, _process.LastError);
            var restartedEvent = new VmRestarted(_vmId, _restartPolicy.Restarts, _process.LastError ?? "");
            Context.System.EventStream.Publish(restartedEvent);
            TellSessions(restartedEvent);
        }

        while (_reported == VmState.Running && _waiting.TryTake(out var waiting))
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
            _process.ExitedBeforeStart(exited);
            return;
        }

        LoseInstance("process " + exited.Description);
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
            LoseInstance(_answers.Overdue(head, running));
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
        var decision = _process.Lost(reason, creating: _creator is not null);
        _log.Warning("VM {0}: {1}", _vmId, _process.LastError);
        Context.System.EventStream.Publish(new VmCrashed(_vmId, _process.LastError!));
        var abandoned = _pipeline.Abandon();
        LuaActorsMetrics.ExecutionsLost(Self, abandoned.Where(a => a.TimedOut).Select(a => (uint?)a.Request.Id).FirstOrDefault());
        foreach (var (pending, timedOut) in abandoned)
        {
            pending.ReplyTo.Tell(_answers.Abandoned(pending, timedOut, reason));
        }

        // A chunk half typed into the dead process is gone; lines still queued go to the new one.
        foreach (var (sessionId, line, sender) in _sessions.ResetAfterCrash())
        {
            _waiting.Requeue(new SendSessionInput(_vmId, sessionId, line), sender);
        }

        switch (decision.Next)
        {
            case AfterLoss.FailCreation:
                FailCreation(_process.DidNotStart(_vmId, creationFailure));
                break;
            case AfterLoss.GiveUp:
                Enter(VmState.Failed);
                _log.Error("VM {0} gave up: {1} restarts within {2}", _vmId, decision.RestartsInWindow, _restartPolicy.Window);
                Context.System.EventStream.Publish(new VmGaveUp(_vmId, _restartPolicy.Restarts, _process.LastError!));
                AnswerWaiting(GaveUp());
                break;
            case AfterLoss.Restart when decision.Backoff <= TimeSpan.Zero:
                LuaActorsMetrics.VmRestarted(Self, reason);
                Enter(VmState.Restarting);
                StartNewInstance();
                break;
            case AfterLoss.Restart:
                LuaActorsMetrics.VmRestarted(Self, reason);
                Enter(VmState.Restarting);
                Timers.StartSingleTimer(nameof(StartInstance), StartInstance.Instance, decision.Backoff);
                break;
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
        foreach (var sender in _waiting.TakeAll())
        {
            sender.Tell(answer);
        }
    }
}
