using System.Net;
using LuaActors.Messages;

namespace LuaActors.Host;

/// <summary>
/// The HTTP status of every <see cref="ErrorKind"/> (docs/api.md, "Status codes"). Lua errors
/// (syntax, runtime, timeout, memory, incomplete) are not here: an execute answers them 200
/// with "ok": false.
/// </summary>
internal static class ApiErrors
{
    /// <summary>Kinds of the API itself, beside the <see cref="ErrorKind"/>s.</summary>
    public const string InvalidRequest = "invalid-request";
    public const string Unauthorized = "unauthorized";
    public const string NoAnswer = "no-answer";
    public const string NoRoute = "no-route";
    public const string Internal = "internal";

    public static HttpStatusCode StatusOf(ErrorKind kind) => kind switch
    {
        // The request's values are wrong: a request argument out of range (a negative time
        // limit), or a VM spec the library refuses (a bad id, a bad limit, a config entry the
        // type does not take). Fix the request.
        ErrorKind.InvalidRequest or ErrorKind.InvalidSpec => HttpStatusCode.BadRequest,
        ErrorKind.NotFound => HttpStatusCode.NotFound,
        ErrorKind.AlreadyExists => HttpStatusCode.Conflict,

        // Well-formed and valid, but this cluster cannot do it: no VM type of that name is
        // configured, the init script fails when it runs, the VM's type cannot run code (xcpng).
        ErrorKind.UnknownType or ErrorKind.InitFailed or ErrorKind.NotSupported
            => HttpStatusCode.UnprocessableEntity,

        // The VM cannot answer now: its process died with the request in flight (it restarts
        // by itself), it broke the protocol (restarted), it was stopped or its node left
        // (it comes back elsewhere), it is restarting with a full queue, or it gave up after
        // too many restarts (remove and re-create it).
        ErrorKind.Crashed or ErrorKind.NodeLost or ErrorKind.Protocol or ErrorKind.Stopped or ErrorKind.Overloaded or ErrorKind.VmFailed
            => HttpStatusCode.ServiceUnavailable,

        // A storage write over the VM's storage limits, outside an execute (an execute answers it
        // 200, "ok": false, as a Lua error). 422, not 413: the HTTP request may be small and well
        // within luaactors.limits; what the VM would store is refused, so resending the same request
        // cannot help, and 413 would tell a client or proxy to shrink the body.
        ErrorKind.StorageLimit => HttpStatusCode.UnprocessableEntity,

        // Lua errors outside an execute (none is expected: init-script failures are InitFailed).
        _ when kind.IsLuaError() => HttpStatusCode.UnprocessableEntity,

        // The node has no file descriptors (or processes, or memory) left for another VM process,
        // or holds as many as its descriptor limit allows (capacity): remove VMs or raise the
        // node's limits (docs/guarantees.md, "Resource exhaustion", "Capacity").
        ErrorKind.ResourceExhausted or ErrorKind.Capacity => HttpStatusCode.ServiceUnavailable,

        // The database (desired state, or a VM's durable storage) is unreachable: nothing was written.
        ErrorKind.StorageUnavailable => HttpStatusCode.ServiceUnavailable,

        // The target VM's inbox is full: its Lua code must take messages first.
        ErrorKind.InboxFull => HttpStatusCode.TooManyRequests,

        // A request or its reply is over a luaactors.limits size (docs/guarantees.md, "Size limits").
        ErrorKind.TooLarge => HttpStatusCode.RequestEntityTooLarge,

        _ => HttpStatusCode.InternalServerError,
    };
}
