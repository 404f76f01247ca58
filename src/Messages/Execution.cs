namespace LuaActors.Messages;

/// <summary>How the code of an <see cref="Execute"/> is read.</summary>
public enum ExecuteMode
{
    /// <summary>A chunk, like a file: values come from its <c>return</c>.</summary>
    Chunk,
    /// <summary>A REPL line, like <c>lua -i</c>: an expression first, then a statement.</summary>
    Repl,
}

/// <summary>
/// Run Lua code in a VM. Null limits fall back to the VM's own. <paramref name="Trace"/>: the
/// caller's span, if it is traced (absent in messages from nodes that predate it).
/// </summary>
public sealed record Execute(
    string VmId,
    string Code,
    ExecuteMode Mode = ExecuteMode.Chunk,
    int? TimeoutMs = null,
    int? MemoryMb = null,
    TraceContext? Trace = null) : IVmCommand;

/// <summary>
/// The reply to <see cref="Execute"/>: <paramref name="ValuesJson"/> is a JSON array of
/// <paramref name="Count"/> values exactly as the VM encoded them (integers without a dot,
/// floats with one, typed placeholders as <c>{"$type": …}</c>; see docs/protocol.md).
/// </summary>
public sealed record Executed(
    string VmId,
    int Count,
    string ValuesJson,
    string Output,
    bool OutputTruncated) : ILuaActorsMessage;

/// <summary>Throw away the VM's globals: a fresh sandbox, same process.</summary>
public sealed record ResetVm(string VmId) : IVmCommand;

public sealed record VmWasReset(string VmId) : ILuaActorsMessage;

/// <summary>Round trip to the interpreter itself (not only to its actor).</summary>
public sealed record PingVm(string VmId) : IVmCommand;

public sealed record VmPong(string VmId, string LuaVersion) : ILuaActorsMessage;
