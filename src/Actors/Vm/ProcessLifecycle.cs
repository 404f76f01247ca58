using System.Globalization;
using LuaActors.Api;
using LuaActors.Backends;
using LuaActors.Messages;
using LuaActors.Process;
using LuaActors.Protocol;

namespace LuaActors.Vm;

/// <summary>What follows a lost process.</summary>
internal enum AfterLoss
{
    /// <summary>It was the first start, for a create that still waits: the create fails, the spec goes.</summary>
    FailCreation,
    /// <summary>Too many restarts in the window: the VM is Failed until removed.</summary>
    GiveUp,
    /// <summary>Another process, after <see cref="LossDecision.Backoff"/>.</summary>
    Restart,
}

internal readonly record struct LossDecision(AfterLoss Next, TimeSpan Backoff, int RestartsInWindow);

/// <summary>One request of a new process's start-up; its frame is built with the request's id.</summary>
/// <param name="Input">The port of a restored server.</param>
internal sealed record StartupRequest(RequestKind Kind, Func<uint, HostFrame> Frame, string? Input = null);

/// <summary>
/// The bookkeeping of a VM's processes, one after another: the start-up sequence a new process
/// runs (limits, init script, restored servers, ready), an exit that overtakes the start notice,
/// the last error (with the stderr tail that explains it), a backend that cannot run code, and
/// what follows a loss (fail the create, restart after a backoff, or give up). Plain state: the
/// actor starts and kills the processes and answers the requests.
/// </summary>
internal sealed class ProcessLifecycle(RestartPolicy restarts, TimeProvider time)
{
    private const int StderrTailLines = 5;

    private readonly StderrTail _stderr = new(StderrTailLines);
    private InstanceExited? _exitedBeforeStart;
    private long _startedAt;

    public RestartPolicy Restarts => restarts;

    /// <summary>Why the last process ended (or the init script failed); in the VM's info and its events.</summary>
    public string? LastError { get; private set; }

    /// <summary>Set when the backend has nothing to run code on: what every request hears.</summary>
    public string? NotSupported { get; private set; }

    /// <summary>The start-up requests of a new process, in the order they are written.</summary>
    public static IReadOnlyList<StartupRequest> StartupRequests(
        HostLimits limits, string? initScript, IReadOnlyList<(string Host, int Port)> servers)
    {
        var timeoutMs = limits.TimeoutMs;
        var requests = new List<StartupRequest> { new(RequestKind.Limits, id => HostFrames.Limits(id, limits)) };
        if (!string.IsNullOrEmpty(initScript))
        {
            requests.Add(new(RequestKind.Init, id => HostFrames.Execute(id, 0, 0, initScript)));
        }

        // The StartServer listeners of the process before, on their ports (like the init script, they run again).
        foreach (var (host, port) in servers)
        {
            requests.Add(new(RequestKind.RestoreServer,
                id => HostFrames.Execute(id, timeoutMs, 0, VmNetworking.ServeCode(host, port)), port.ToString(CultureInfo.InvariantCulture)));
        }

        requests.Add(new(RequestKind.Ready, HostFrames.Ping));
        return requests;
    }

    /// <summary>Starts an instance; a backend that refuses synchronously is handled like one that fails later.</summary>
    public static Task<IVmInstance> Start(IVmBackend backend, InstanceStart start)
    {
        try
        {
            return backend.StartAsync(start);
        }
        catch (Exception e)
        {
            return Task.FromException<IVmInstance>(e);
        }
    }

    /// <summary>A new generation starts: an exit noticed before belongs to an older one.</summary>
    public void Starting() => _exitedBeforeStart = null;

    /// <summary>The exit of the current generation overtook its start notice (the interpreter could not even be executed).</summary>
    public void ExitedBeforeStart(InstanceExited exited) => _exitedBeforeStart = exited;

    /// <summary>The current generation's instance runs: null, or why it is lost already.</summary>
    public string? Started()
    {
        _startedAt = time.GetTimestamp();
        return _exitedBeforeStart is { } exited ? "process " + exited.Description : null;
    }

    public long UptimeMs() => (long)time.GetElapsedTime(_startedAt).TotalMilliseconds;

    public void Stderr(string line) => _stderr.Add(line);

    /// <summary>
    /// The start failed: true when the backend cannot run code at all (the VM is NotProvisioned);
    /// otherwise why, and what a waiting create is answered.
    /// </summary>
    public bool StartFailed(Exception error, out string reason, out ErrorKind creationFailure)
    {
        var cause = error.GetBaseException();
        reason = "could not start the interpreter: " + cause.Message;
        creationFailure = cause switch
        {
            CapacityExceededException => ErrorKind.Capacity,
            ResourceExhaustedException => ErrorKind.ResourceExhausted,
            _ => ErrorKind.Crashed,
        };
        if (error is VmBackendNotSupportedException notSupported)
        {
            NotSupported = notSupported.Message;
            return true;
        }

        return false;
    }

    /// <summary>The init script failed: the reason, and what a waiting create is answered.</summary>
    public RequestFailed InitFailed(string vmId, RequestFailed? failure)
    {
        LastError = $"init script failed: {failure?.Kind}: {failure?.Message}";
        return new RequestFailed(vmId, ErrorKind.InitFailed, LastError,
            failure?.Traceback ?? "", failure?.Output ?? "", failure?.OutputTruncated ?? false);
    }

    /// <summary>The process is lost for <paramref name="reason"/>: what follows.</summary>
    /// <param name="creating">A create still waits for the first start.</param>
    public LossDecision Lost(string reason, bool creating)
    {
        LastError = _stderr.Explain(reason);
        if (creating)
        {
            return new LossDecision(AfterLoss.FailCreation, TimeSpan.Zero, 0);
        }

        var decision = restarts.RecordRestart();
        return new LossDecision(decision.GiveUp ? AfterLoss.GiveUp : AfterLoss.Restart, decision.Backoff, decision.RestartsInWindow);
    }

    /// <summary>What a create still waiting for a lost first start is answered.</summary>
    public RequestFailed DidNotStart(string vmId, ErrorKind kind) => new(vmId, kind, $"VM '{vmId}' did not start: {LastError}");
}
