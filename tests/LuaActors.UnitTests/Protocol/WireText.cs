using System.Text;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Protocol;

/// <summary>
/// The other end of the wire, for round trips: reads host frames the way vmhost.lua does and
/// writes VM frames the way vmhost.lua does (docs/protocol.md §2–§4, §11.1).
/// </summary>
internal static class WireText
{
    /// <summary>A frame as bytes from its docs/protocol.md spelling (<c>\n</c> for 0x0a, <c>\t</c> for 0x09).</summary>
    public static byte[] Bytes(string documented) =>
        Encoding.UTF8.GetBytes(documented.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal));

    /// <summary>Op, id and payload of one whole host frame, checking the header's length.</summary>
    public static (FrameOp Op, uint Id, byte[] Payload) Split(ReadOnlySpan<byte> frame)
    {
        Assert.True(FrameHeader.TryRead(frame, out var header));
        Assert.Equal(header.FrameLength, frame.Length);
        return (header.Op, header.Id, frame[FrameHeader.Length..].ToArray());
    }

    /// <summary>Any VM frame: header, then the payload as given.</summary>
    public static byte[] VmFrame(char op, uint id, byte[] payload)
    {
        var frame = Encoding.ASCII.GetBytes($"{op}{id:x8}{payload.Length:x8}\n").Concat(payload).ToArray();
        return frame;
    }

    public static byte[] Result(uint id, int n, string json, string output, bool truncated)
    {
        var (j, o) = (Utf8(json), Utf8(output));
        return VmFrame('R', id, [.. Ascii($"{n} {j.Length} {o.Length} {(truncated ? 1 : 0)}\n"), .. j, .. o]);
    }

    public static byte[] Error(uint id, string kind, string message, string traceback, string output, bool truncated) =>
        Failure('X', id, kind, message, traceback, output, truncated);

    public static byte[] Task(uint id, string status, string message, string traceback, string output, bool truncated) =>
        Failure('T', id, status, message, traceback, output, truncated);

    public static byte[] Call(uint id, string op, string name, string json)
    {
        var (n, j) = (Utf8(name), Utf8(json));
        return VmFrame('M', id, [.. Ascii($"{op} {n.Length} {j.Length}\n"), .. n, .. j]);
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] Failure(char op, uint id, string word, string message, string traceback, string output, bool truncated)
    {
        var (m, t, o) = (Utf8(message), Utf8(traceback), Utf8(output));
        return VmFrame(op, id, [.. Ascii($"{word} {m.Length} {t.Length} {o.Length} {(truncated ? 1 : 0)}\n"), .. m, .. t, .. o]);
    }
}
