using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace LuaActors.Protocol;

/// <summary>
/// Encodes every frame the host sends to a VM (docs/protocol.md §3, §11.1): the one place that
/// knows their payloads. Each frame is built straight into one pooled buffer, numbers formatted
/// in place, text encoded once.
/// </summary>
public static class HostFrames
{
    // Texts up to this many chars get a buffer of their worst-case UTF-8 size (no counting pass);
    // longer ones are counted first, so a big chunk does not rent three times its size.
    private const int CountAbove = 16 * 1024;

    // Room for "<long> <long>\n".
    private const int NumbersPreamble = 2 * 20 + 2;

    /// <summary>'E': run <paramref name="code"/> as a chunk; 0 for a limit means the VM default.</summary>
    public static HostFrame Execute(uint id, long timeoutMs, long memoryKb, string code) =>
        Request(FrameOp.Execute, id, timeoutMs, memoryKb, code);

    /// <summary>'V': evaluate one REPL input (a line, or the lines of an unfinished chunk).</summary>
    public static HostFrame Eval(uint id, long timeoutMs, long memoryKb, string input) =>
        Request(FrameOp.Eval, id, timeoutMs, memoryKb, input);

    /// <summary>'L': the VM's limits and settings, all in one frame.</summary>
    public static HostFrame Limits(uint id, HostLimits limits)
    {
        var text = new StringBuilder()
            .Append("timeout_ms=").Append(limits.TimeoutMs).Append('\n')
            .Append("memory_kb=").Append(limits.MemoryKb).Append('\n')
            .Append("output_cap=").Append(limits.OutputCap).Append('\n')
            .Append("result_cap=").Append(limits.ResultCap).Append('\n')
            .Append("rep_cap=").Append(limits.RepCap).Append('\n')
            .Append("vm_id=").Append(limits.VmId).Append('\n');
        if (limits.Net is { } net)
        {
            text.Append("net=1\n")
                .Append("net_bind=").AppendJoin(',', net.BindAddresses).Append('\n')
                .Append("net_ports=").Append(net.LowPort).Append('-').Append(net.HighPort).Append('\n')
                .Append("net_sockets=").Append(net.MaxSockets).Append('\n');
        }

        return Text(FrameOp.Limits, id, "", text.ToString());
    }

    /// <summary>'P': the VM answers 'K' with its Lua version.</summary>
    public static HostFrame Ping(uint id) => Empty(FrameOp.Ping, id);

    /// <summary>'Z': a fresh sandbox; the limits stay.</summary>
    public static HostFrame Reset(uint id) => Empty(FrameOp.Reset, id);

    /// <summary>'Q': the VM answers 'K', then exits.</summary>
    public static HostFrame Quit(uint id) => Empty(FrameOp.Quit, id);

    /// <summary>'I': stop request <paramref name="requestId"/> (it ends with 'X interrupted', or its normal reply if too late).</summary>
    public static HostFrame Interrupt(uint requestId) => Empty(FrameOp.Interrupt, requestId);

    /// <summary>'D' answering wait <paramref name="waitId"/> with one message.</summary>
    /// <param name="from">The sending VM; null or empty for a message that did not come from a VM.</param>
    /// <param name="topic">The topic of a published message; null or empty for a direct one.</param>
    public static HostFrame Deliver(uint waitId, string? from, string? topic, string valueJson)
    {
        from ??= "";
        topic ??= "";
        var fromBytes = Encoding.UTF8.GetByteCount(from);
        var topicBytes = Encoding.UTF8.GetByteCount(topic);
        var jsonBytes = Encoding.UTF8.GetByteCount(valueJson);
        var buffer = Rent(FrameHeader.Length + 3 * 11 + fromBytes + topicBytes + jsonBytes);
        var payload = buffer.AsSpan(FrameHeader.Length);
        var n = WriteNumber(payload, fromBytes);
        payload[n++] = (byte)' ';
        n += WriteNumber(payload[n..], topicBytes);
        payload[n++] = (byte)' ';
        n += WriteNumber(payload[n..], jsonBytes);
        payload[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(from, payload[n..]);
        n += Encoding.UTF8.GetBytes(topic, payload[n..]);
        n += Encoding.UTF8.GetBytes(valueJson, payload[n..]);
        return Finish(buffer, FrameOp.Deliver, waitId, n);
    }

    /// <summary>An empty 'D': the wait <paramref name="waitId"/> ends with no message.</summary>
    public static HostFrame NoMessage(uint waitId) => Empty(FrameOp.Deliver, waitId);

    /// <summary>'A ok': the call <paramref name="callId"/> returns true, or <paramref name="valueJson"/> decoded.</summary>
    public static HostFrame AnswerOk(uint callId, string valueJson = "") => Text(FrameOp.Answer, callId, "ok\n", valueJson);

    /// <summary>'A error': the call <paramref name="callId"/> raises <paramref name="message"/> in the calling Lua code.</summary>
    public static HostFrame AnswerError(uint callId, string message) => Text(FrameOp.Answer, callId, "error\n", message);

    /// <summary>'A ok' to a storage call: <paramref name="valueJson"/> (a value, a key list), or <c>null</c> (no value: nil in Lua).</summary>
    public static HostFrame StorageAnswer(uint callId, string? valueJson) => AnswerOk(callId, valueJson ?? "null");

    /// <summary>
    /// 'A error' to a storage call: Lua raises "<paramref name="kind"/>: <paramref name="message"/>"
    /// (kind "storage-limit", "storage-unavailable" or "storage-invalid"; docs/storage.md).
    /// </summary>
    public static HostFrame StorageError(uint callId, string kind, string message) => AnswerError(callId, kind + ": " + message);

    private static HostFrame Request(FrameOp op, uint id, long timeoutMs, long memoryKb, string text)
    {
        var buffer = Rent(FrameHeader.Length + NumbersPreamble + MaxBytes(text));
        var payload = buffer.AsSpan(FrameHeader.Length);
        var n = WriteNumber(payload, timeoutMs);
        payload[n++] = (byte)' ';
        n += WriteNumber(payload[n..], memoryKb);
        payload[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(text, payload[n..]);
        return Finish(buffer, op, id, n);
    }

    /// <summary>A payload of an ASCII <paramref name="preamble"/> and a text.</summary>
    private static HostFrame Text(FrameOp op, uint id, string preamble, string text)
    {
        var buffer = Rent(FrameHeader.Length + preamble.Length + MaxBytes(text));
        var payload = buffer.AsSpan(FrameHeader.Length);
        var n = Encoding.ASCII.GetBytes(preamble, payload);
        n += Encoding.UTF8.GetBytes(text, payload[n..]);
        return Finish(buffer, op, id, n);
    }

    private static HostFrame Empty(FrameOp op, uint id) => Finish(Rent(FrameHeader.Length), op, id, 0);

    private static HostFrame Finish(byte[] buffer, FrameOp op, uint id, int payloadLength)
    {
        FrameHeader.Write(buffer, op, id, payloadLength);
        return new HostFrame(buffer, FrameHeader.Length + payloadLength, id);
    }

    private static byte[] Rent(int length) => ArrayPool<byte>.Shared.Rent(length);

    private static int MaxBytes(string text) =>
        text.Length <= CountAbove ? Encoding.UTF8.GetMaxByteCount(text.Length) : Encoding.UTF8.GetByteCount(text);

    private static int WriteNumber(Span<byte> destination, long value) =>
        Utf8Formatter.TryFormat(value, destination, out var written)
            ? written
            : throw new InvalidOperationException("no room for a number in a frame preamble");
}
