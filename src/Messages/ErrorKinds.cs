namespace LuaActors.Messages;

/// <summary>
/// The rules about <see cref="ErrorKind"/>s, written once: which kinds are Lua's own errors,
/// which are worth retrying, and each kind's name on the wire (the VM's 'X' replies,
/// docs/protocol.md §9) and in the HTTP API (docs/api.md).
/// </summary>
public static class ErrorKinds
{
    /// <summary>
    /// The Lua error kinds: the user's code failed in a VM that is still there, with its state.
    /// An execute answers them as a result ("ok": false), not as an API error. A storage limit is
    /// one of them: the user's write failed, the VM and its storage are as they were.
    /// </summary>
    public static bool IsLuaError(this ErrorKind kind) =>
        kind is ErrorKind.Syntax or ErrorKind.Runtime or ErrorKind.Timeout or ErrorKind.Memory
            or ErrorKind.Incomplete or ErrorKind.Interrupted or ErrorKind.StorageLimit;

    /// <summary>Whether the same request may succeed if sent again shortly (HTTP: Retry-After).</summary>
    public static bool IsTransient(this ErrorKind kind) =>
        kind is ErrorKind.InboxFull or ErrorKind.Crashed or ErrorKind.NodeLost or ErrorKind.Protocol
            or ErrorKind.Stopped or ErrorKind.Overloaded
            or ErrorKind.StorageUnavailable;

    /// <summary>The kind's name on the wire and in the API: lower case, words joined by '-' ("too-large").</summary>
    public static string WireName(this ErrorKind kind) => kind switch
    {
        ErrorKind.Syntax => "syntax",
        ErrorKind.Runtime => "runtime",
        ErrorKind.Timeout => "timeout",
        ErrorKind.Memory => "memory",
        ErrorKind.Incomplete => "incomplete",
        ErrorKind.Interrupted => "interrupted",
        ErrorKind.Crashed => "crashed",
        ErrorKind.NodeLost => "node-lost",
        ErrorKind.NotFound => "not-found",
        ErrorKind.AlreadyExists => "already-exists",
        ErrorKind.InvalidSpec => "invalid-spec",
        ErrorKind.InvalidRequest => "invalid-request",
        ErrorKind.UnknownType => "unknown-type",
        ErrorKind.NotSupported => "not-supported",
        ErrorKind.InitFailed => "init-failed",
        ErrorKind.VmFailed => "vm-failed",
        ErrorKind.Stopped => "stopped",
        ErrorKind.Protocol => "protocol",
        ErrorKind.Overloaded => "overloaded",
        ErrorKind.InboxFull => "inbox-full",
        ErrorKind.TooLarge => "too-large",
        ErrorKind.ResourceExhausted => "resource-exhausted",
        ErrorKind.Capacity => "capacity",
        ErrorKind.StorageUnavailable => "storage-unavailable",
        ErrorKind.StorageLimit => "storage-limit",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an ErrorKind"),
    };

    /// <summary>The kind a VM names in an 'X' reply (a Lua kind, "too-large" or "protocol"); false for any other name.</summary>
    public static bool TryFromVmWireName(ReadOnlySpan<byte> name, out ErrorKind kind)
    {
        foreach (var candidate in VmReported)
        {
            if (name.SequenceEqual(VmWireNames[(int)candidate]))
            {
                kind = candidate;
                return true;
            }
        }

        kind = ErrorKind.Protocol;
        return false;
    }

    /// <summary>The kinds a VM itself reports in an 'X' reply (docs/protocol.md §9), the commonest first.</summary>
    private static readonly ErrorKind[] VmReported =
    [
        ErrorKind.Runtime, ErrorKind.Syntax, ErrorKind.Timeout, ErrorKind.Memory, ErrorKind.Incomplete,
        ErrorKind.Interrupted, ErrorKind.TooLarge, ErrorKind.Protocol, ErrorKind.StorageLimit, ErrorKind.StorageUnavailable,
    ];

    private static readonly byte[][] VmWireNames =
        Enum.GetValues<ErrorKind>().Select(k => System.Text.Encoding.ASCII.GetBytes(k.WireName())).ToArray();
}
