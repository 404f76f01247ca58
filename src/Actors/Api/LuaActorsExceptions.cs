using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>Every error of the embedding API; <see cref="Kind"/> says which.</summary>
public class LuaActorsException(string vmId, ErrorKind kind, string message) : Exception(message)
{
    public string VmId { get; } = vmId;

    public ErrorKind Kind { get; } = kind;

    /// <summary>The typed exception for a failure reply.</summary>
    public static LuaActorsException From(RequestFailed failed) => failed.Kind switch
    {
        ErrorKind.StorageLimit => new StorageLimitException(failed),
        _ when failed.Kind.IsLuaError() => new LuaException(failed),
        ErrorKind.Crashed or ErrorKind.NodeLost => new VmCrashedException(failed.VmId, failed.Message, failed.Kind),
        ErrorKind.NotFound => new VmNotFoundException(failed.VmId, failed.Message),
        ErrorKind.InboxFull => new VmInboxFullException(failed.VmId, failed.Message),
        ErrorKind.AlreadyExists => new VmAlreadyExistsException(failed.VmId, failed.Message),
        ErrorKind.InvalidSpec or ErrorKind.UnknownType or ErrorKind.InitFailed
            => new InvalidVmSpecException(failed.VmId, failed.Kind, failed.Message),
        ErrorKind.NotSupported => new VmNotSupportedException(failed.VmId, failed.Message),
        ErrorKind.InvalidRequest => new InvalidVmRequestException(failed.VmId, failed.Message),
        ErrorKind.TooLarge => new TooLargeException(failed.VmId, failed.Message),
        _ => new VmUnavailableException(failed.VmId, failed.Kind, failed.Message),
    };
}

/// <summary>
/// The Lua code failed: <see cref="LuaActorsException.Kind"/> is one of the Lua error kinds
/// (<see cref="ErrorKinds.IsLuaError"/>). The VM is still there, with its state.
/// </summary>
public class LuaException(RequestFailed failed)
    : LuaActorsException(failed.VmId, failed.Kind, failed.Message)
{
    /// <summary>The error message as Lua produced it.</summary>
    public string LuaMessage { get; } = failed.Message;

    public string Traceback { get; } = failed.Traceback;

    /// <summary>What the code printed before it failed.</summary>
    public string Output { get; } = failed.Output;

    public bool OutputTruncated { get; } = failed.OutputTruncated;
}

/// <summary>
/// A <c>vm.storage</c> write that the Lua code did not catch would have passed one of the VM's
/// storage limits (<see cref="ErrorKind.StorageLimit"/>; the message names the limit and the
/// numbers). Nothing of that write was written; the VM keeps its state and its storage. A
/// <see cref="LuaException"/>, with the traceback and output of the code that failed.
/// </summary>
public sealed class StorageLimitException(RequestFailed failed) : LuaException(failed);

/// <summary>
/// The VM's process (Crashed) or its cluster node (NodeLost) died while the request was in
/// flight; the VM restarts by itself, so a retry can succeed.
/// </summary>
public sealed class VmCrashedException(string vmId, string message, ErrorKind kind = ErrorKind.Crashed)
    : LuaActorsException(vmId, kind, message);

public sealed class VmNotFoundException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.NotFound, message);

public sealed class VmAlreadyExistsException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.AlreadyExists, message);

/// <summary>The spec was refused: bad id, unknown type, bad type config, bad limits, failing init script.</summary>
public sealed class InvalidVmSpecException(string vmId, ErrorKind kind, string message) : LuaActorsException(vmId, kind, message);

public sealed class InvalidVmRequestException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.InvalidRequest, message);

/// <summary>The VM's type cannot do this (the xcpng stub cannot run code).</summary>
public sealed class VmNotSupportedException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.NotSupported, message);

/// <summary>The VM gave up after too many restarts, was stopped, or is overloaded.</summary>
public sealed class VmUnavailableException(string vmId, ErrorKind kind, string message) : LuaActorsException(vmId, kind, message);

/// <summary>The VM's inbox is full: its Lua code takes messages slower than they come.</summary>
public sealed class VmInboxFullException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.InboxFull, message);

/// <summary>The request or its reply is over a <c>luaactors.limits</c> size; nothing was sent over it.</summary>
public sealed class TooLargeException(string vmId, string message) : LuaActorsException(vmId, ErrorKind.TooLarge, message);
