namespace LuaActors.Messages;

/// <summary>
/// What went wrong with a request. The first six and <see cref="StorageLimit"/> come from Lua itself
/// (<see cref="ErrorKinds.IsLuaError"/>); the rules and wire names of all of them are in <see cref="ErrorKinds"/>.
/// </summary>
public enum ErrorKind
{
    /// <summary>The code does not compile.</summary>
    Syntax,
    /// <summary>A Lua error raised while running.</summary>
    Runtime,
    /// <summary>The request passed its time limit (in the VM, or killed by the actor after the grace).</summary>
    Timeout,
    /// <summary>The VM's memory limit (Lua heap or OS address space) refused an allocation.</summary>
    Memory,
    /// <summary>A REPL line that is an unfinished chunk (<c>function f()</c>): send more lines.</summary>
    Incomplete,
    /// <summary>A session interrupted the running chunk (Ctrl+C); the VM keeps its state.</summary>
    Interrupted,
    /// <summary>The VM's process died while the request was in flight; the actor restarts it.</summary>
    Crashed,
    /// <summary>The VM's cluster node was lost or left while the request was in flight; the VM restarts on another node.</summary>
    NodeLost,
    /// <summary>No VM with that id.</summary>
    NotFound,
    /// <summary>A VM with that id exists already.</summary>
    AlreadyExists,
    /// <summary>The VM spec is invalid (bad id, bad config entry, bad limit).</summary>
    InvalidSpec,
    /// <summary>A request's own arguments are invalid (a negative time limit, say).</summary>
    InvalidRequest,
    /// <summary>No VM type of that name is configured.</summary>
    UnknownType,
    /// <summary>The VM's type cannot do this (the xcpng stub cannot run code).</summary>
    NotSupported,
    /// <summary>The VM's init script failed, so the VM was not created.</summary>
    InitFailed,
    /// <summary>The VM restarted too often and was stopped; remove and re-create it.</summary>
    VmFailed,
    /// <summary>The VM was removed or its node stopped while the request waited.</summary>
    Stopped,
    /// <summary>The VM broke the host protocol (a bug, or a damaged interpreter); it is restarted.</summary>
    Protocol,
    /// <summary>Too many requests are waiting for a VM that is (re)starting.</summary>
    Overloaded,
    /// <summary>The target VM's inbox holds as many messages as it may (its inbox capacity).</summary>
    InboxFull,
    /// <summary>
    /// A request or its reply is over a size limit (<c>luaactors.limits</c>: code, result, message
    /// size); refused before it was sent, on any node alike. Wire "too-large", HTTP 413.
    /// </summary>
    TooLarge,
    /// <summary>
    /// The node ran out of what a VM process needs (file descriptors, processes, memory), so this
    /// VM was not created; VMs already running are not affected.
    /// </summary>
    ResourceExhausted,
    /// <summary>
    /// The node holds as many VM processes as its file-descriptor limit allows (RLIMIT_NOFILE;
    /// the message names it and how to raise it), so this VM was not created; refused at once,
    /// before any start. VMs already running are not affected. Wire "capacity", HTTP 503.
    /// </summary>
    Capacity,
    /// <summary>
    /// The database that keeps desired state (VM specs; luaactors.persistence) or a VM's durable
    /// storage (<c>vm.storage</c>, GetStorageAsync; docs/storage.md) failed or cannot be reached, so
    /// nothing was written; retry once it is back. Wire "storage-unavailable", HTTP 503.
    /// </summary>
    StorageUnavailable,
    /// <summary>
    /// A <c>vm.storage</c> write the VM's Lua code did not catch would pass one of the VM's storage
    /// limits (value size, keys, total bytes; its spec's <see cref="VmStorageLimits"/>, else
    /// <c>luaactors.storage</c>), so nothing of it was written; the VM keeps its state and its
    /// storage (docs/storage.md, "Errors"). A Lua error: an execute answers it "ok": false.
    /// Wire "storage-limit"; in Lua, <c>pcall</c> gives an error object with <c>kind == "storage-limit"</c>.
    /// </summary>
    StorageLimit,
}

/// <summary>
/// The one failure reply of every request. Lua errors carry the traceback and the output
/// printed before the error.
/// </summary>
/// <param name="Undelivered">
/// The request never reached its VM (it was dead-lettered while the VM stopped or moved to
/// another node), so it did not run: sending it again is safe.
/// </param>
public sealed record RequestFailed(
    string VmId,
    ErrorKind Kind,
    string Message,
    string Traceback = "",
    string Output = "",
    bool OutputTruncated = false,
    bool Undelivered = false) : ILuaActorsMessage;
