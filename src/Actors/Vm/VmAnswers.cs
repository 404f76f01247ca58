using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// What a VM's actor answers when it cannot do what was asked: one place for each refusal's
/// error kind, its words, and whether the manager may send the request on (<c>Undelivered</c>).
/// </summary>
internal sealed class VmAnswers(string vmId, TimeSpan killGrace)
{
    public RequestFailed NotRegistered() => new(vmId, ErrorKind.NotFound, $"no VM with id '{vmId}'");

    public RequestFailed LookupFailed(string problem) => new(vmId, ErrorKind.NotFound, $"VM '{vmId}' could not be looked up: {problem}");

    public RequestFailed AlreadyExists() => new(vmId, ErrorKind.AlreadyExists, $"a VM with id '{vmId}' already exists");

    /// <summary>Undelivered, so the manager sends the create again, to the fresh actor that follows this one.</summary>
    public RequestFailed BeingRemoved() => new(vmId, ErrorKind.Stopped, $"VM '{vmId}' is being removed", Undelivered: true);

    /// <summary>Undelivered: the manager sends the request to the VM's next home.</summary>
    public RequestFailed Moving() => new(vmId, ErrorKind.Stopped, $"VM '{vmId}' is moving to another node", Undelivered: true);

    public RequestFailed Stopped() => new(vmId, ErrorKind.Stopped, $"VM '{vmId}' was stopped");

    public RequestFailed TooManyWaiting(int waiting) => new(vmId, ErrorKind.Overloaded, $"{waiting} requests already wait for VM '{vmId}' to start");

    public RequestFailed GaveUp(int restarts, string? lastError) => new(vmId, ErrorKind.VmFailed,
        $"VM '{vmId}' gave up after {restarts} restarts (last: {lastError}); remove and re-create it");

    public RequestFailed NotSupported(string? why) => new(vmId, ErrorKind.NotSupported, why ?? "not supported");

    public RequestFailed Invalid(string problem) => new(vmId, ErrorKind.InvalidRequest, problem);

    /// <summary>What a request in flight hears when its process is lost: Timeout for the one killed for running too long.</summary>
    public RequestFailed Abandoned(PendingRequest pending, bool timedOut, string reason) => timedOut
        ? new(vmId, ErrorKind.Timeout,
            $"timeout: the request ran past its {pending.TimeoutMs} ms limit and the {killGrace.TotalMilliseconds:F0} ms grace (stuck in a C function?); the VM was restarted")
        : new(vmId, ErrorKind.Crashed, $"VM '{vmId}' crashed: {reason}; it restarts");

    /// <summary>Why the process is killed: its oldest request ran past its deadline and the grace.</summary>
    public string Overdue(PendingRequest head, TimeSpan running) =>
        $"request {head.Id} still ran {running.TotalMilliseconds:F0} ms after it started " +
        $"(limit {head.TimeoutMs} ms + {killGrace.TotalMilliseconds:F0} ms grace): killed";
}
