using LuaActors.Process;

namespace LuaActors.Vm;

/// <summary>
/// The host→VM request frames the VM actor writes, one method per frame (docs/protocol.md):
/// the one place their payloads are built, on top of <see cref="Frame.Encode(byte, uint, string, string)"/>.
/// </summary>
internal static class HostFrames
{
    /// <summary>The limits a new process gets before anything else (one <c>key=value</c> a line).</summary>
    public static byte[] Limits(uint id, string vmId, VmRunLimits limits, long resultCap, long repCap, string networkingLines) =>
        Frame.Encode(Frame.Ops.Limits, id,
            $"timeout_ms={limits.TimeoutMs}\nmemory_kb={limits.MemoryBytes / 1024}\noutput_cap={limits.OutputCap}\nresult_cap={resultCap}\nrep_cap={repCap}\nvm_id={vmId}\n" + networkingLines,
            "");

    /// <summary>A chunk (<paramref name="repl"/>: a REPL line) with its time limit and memory limit in KiB (0: the VM's).</summary>
    public static byte[] Execute(uint id, int timeoutMs, long memoryKb, string code, bool repl = false) =>
        Frame.Encode(repl ? Frame.Ops.Eval : Frame.Ops.Execute, id, $"{timeoutMs} {memoryKb}\n", code);

    /// <summary>The init script: no time limit of its own (the VM's) and the VM's memory.</summary>
    public static byte[] Init(uint id, string script) => Frame.Encode(Frame.Ops.Execute, id, "0 0\n", script);

    public static byte[] Ping(uint id) => Frame.Encode(Frame.Ops.Ping, id, ReadOnlySpan<byte>.Empty);

    public static byte[] Reset(uint id) => Frame.Encode(Frame.Ops.Reset, id, ReadOnlySpan<byte>.Empty);

    /// <summary>Stops request <paramref name="id"/> if it is in the VM.</summary>
    public static byte[] Interrupt(uint id) => Frame.Encode(Frame.Ops.Interrupt, id, ReadOnlySpan<byte>.Empty);
}
