using System.Buffers.Text;
using System.Text;
using LuaActors.Messages;

namespace LuaActors.Protocol;

/// <summary>
/// Decodes every frame a VM sends (docs/protocol.md §4, §11.1) into a <see cref="VmFrame"/>.
/// Never throws on bad input: a frame that is not the protocol's comes back as a
/// <see cref="MalformedFrame"/> saying what is wrong.
/// </summary>
public static class VmFrames
{
    /// <summary>Decodes a whole frame (header and payload) held in <paramref name="frame"/>.</summary>
    public static VmFrame Decode(ReadOnlySpan<byte> frame)
    {
        if (!FrameHeader.TryRead(frame, out var header))
        {
            var op = frame.IsEmpty ? default : (FrameOp)frame[0];
            var id = frame.Length >= 9 && TryParseHexId(frame.Slice(1, 8), out var hexId) ? hexId : 0;
            return new MalformedFrame(id, op, FrameError.BadHeader,
                frame.Length < FrameHeader.Length ? $"only {frame.Length} bytes, a header has {FrameHeader.Length}" : "not op, 8 hex digits, 8 hex digits, newline",
                Math.Max(0, frame.Length - FrameHeader.Length));
        }

        return Decode(header, frame[FrameHeader.Length..]);
    }

    /// <summary>Decodes the frame <paramref name="header"/> starts; <paramref name="payload"/> should be its payload's bytes.</summary>
    public static VmFrame Decode(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < header.PayloadLength)
        {
            return Malformed(header, FrameError.TruncatedPayload, $"{payload.Length} payload bytes of {header.PayloadLength}");
        }

        if (payload.Length > header.PayloadLength)
        {
            return Malformed(header, FrameError.WrongLength, $"{payload.Length} payload bytes, the header says {header.PayloadLength}");
        }

        return header.Op switch
        {
            FrameOp.Result => DecodeResult(header, payload),
            FrameOp.Error => DecodeError(header, payload),
            FrameOp.Ok => new OkReply(header.Id, Text(payload)),
            FrameOp.Want => DecodeWant(header, payload),
            FrameOp.Unwant => new UnwantMessage(header.Id),
            FrameOp.Message => DecodeCall(header, payload),
            FrameOp.TaskEvent => DecodeTask(header, payload),
            _ => Malformed(header, FrameError.UnknownOp, $"unknown op {FrameHeader.Show(header.Op)}"),
        };
    }

    /// <summary><c>&lt;n&gt; &lt;json_len&gt; &lt;output_len&gt; &lt;truncated&gt;\n&lt;json&gt;&lt;output&gt;</c></summary>
    private static VmFrame DecodeResult(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!SplitPreamble(payload, out var preamble, out var body)
            || !Numbers(preamble, out var count, out var jsonLength, out var outputLength, out var truncated))
        {
            return Malformed(header, FrameError.BadPayload, "the preamble is not '<n> <json_len> <output_len> <truncated>'");
        }

        if (Mismatch(header, body, jsonLength + outputLength) is { } wrong)
        {
            return wrong;
        }

        return new ResultReply(header.Id, (int)count, Text(body[..(int)jsonLength]), Text(body[(int)jsonLength..]), truncated != 0);
    }

    /// <summary><c>&lt;kind&gt; &lt;message_len&gt; &lt;traceback_len&gt; &lt;output_len&gt; &lt;truncated&gt;\n…</c></summary>
    private static VmFrame DecodeError(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (DecodeFailure(header, payload, out var kindName, out var message, out var traceback, out var output, out var truncated) is { } malformed)
        {
            return malformed;
        }

        // A kind this side does not know is still the VM's failure: reported as a protocol error.
        ErrorKinds.TryFromVmWireName(kindName, out var kind);
        return new ErrorReply(header.Id, kind, message, traceback, output, truncated);
    }

    /// <summary>Same layout as 'X', with the task's status in place of the kind.</summary>
    private static VmFrame DecodeTask(FrameHeader header, ReadOnlySpan<byte> payload) =>
        DecodeFailure(header, payload, out var status, out var message, out var traceback, out var output, out var truncated) is { } malformed
            ? malformed
            : new TaskEvent(header.Id, Encoding.ASCII.GetString(status), message, traceback, output, truncated);

    private static MalformedFrame? DecodeFailure(
        FrameHeader header, ReadOnlySpan<byte> payload,
        out ReadOnlySpan<byte> word, out string message, out string traceback, out string output, out bool truncated)
    {
        message = traceback = output = "";
        truncated = false;
        word = default;
        if (!SplitPreamble(payload, out var preamble, out var body)
            || !SplitWord(preamble, out var space)
            || !Numbers(preamble[(space + 1)..], out var messageLength, out var tracebackLength, out var outputLength, out var flag))
        {
            return Malformed(header, FrameError.BadPayload, "the preamble is not '<word> <message_len> <traceback_len> <output_len> <truncated>'");
        }

        if (Mismatch(header, body, messageLength + tracebackLength + outputLength) is { } wrong)
        {
            return wrong;
        }

        word = preamble[..space];
        message = Text(body[..(int)messageLength]);
        traceback = Text(body.Slice((int)messageLength, (int)tracebackLength));
        output = Text(body[(int)(messageLength + tracebackLength)..]);
        truncated = flag != 0;
        return null;
    }

    /// <summary><c>&lt;timeout_ms&gt;</c>, or empty: no timeout.</summary>
    private static VmFrame DecodeWant(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return new WantMessage(header.Id, null);
        }

        // Any 64-bit number: Lua's %d of the seconds Lua code gave, times 1000.
        return Utf8Parser.TryParse(payload, out long timeout, out var used) && used == payload.Length
            ? new WantMessage(header.Id, timeout)
            : Malformed(header, FrameError.BadPayload, "the wait's timeout is not a decimal number");
    }

    /// <summary><c>&lt;op&gt; &lt;name_len&gt; &lt;json_len&gt;\n&lt;name&gt;&lt;json&gt;</c>; the <c>storage-</c> ops are <see cref="StorageCall"/>s.</summary>
    private static VmFrame DecodeCall(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!SplitPreamble(payload, out var preamble, out var body)
            || !SplitWord(preamble, out var space)
            || !TwoNumbers(preamble[(space + 1)..], out var nameLength, out var jsonLength))
        {
            return Malformed(header, FrameError.BadPayload, "the preamble is not '<op> <name_len> <json_len>'");
        }

        if (Mismatch(header, body, nameLength + jsonLength) is { } wrong)
        {
            return wrong;
        }

        var op = preamble[..space];
        var name = Text(body[..(int)nameLength]);
        var json = Text(body[(int)nameLength..]);
        return StorageCalls.TryParseOp(op, out var storageOp)
            ? new StorageCall(header.Id, storageOp, name, json)
            : new MessageCall(header.Id, Encoding.ASCII.GetString(op), name, json);
    }

    /// <summary>The payload's own lengths against the bytes after its preamble.</summary>
    private static MalformedFrame? Mismatch(FrameHeader header, ReadOnlySpan<byte> body, long declared) =>
        declared > body.Length
            ? Malformed(header, FrameError.TruncatedPayload, $"the preamble's lengths add up to {declared} bytes, {body.Length} follow it")
            : declared < body.Length
                ? Malformed(header, FrameError.WrongLength, $"the preamble's lengths add up to {declared} bytes, {body.Length} follow it")
                : null;

    private static bool SplitPreamble(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> preamble, out ReadOnlySpan<byte> body)
    {
        var newline = payload.IndexOf((byte)'\n');
        preamble = newline < 0 ? default : payload[..newline];
        body = newline < 0 ? default : payload[(newline + 1)..];
        return newline >= 0;
    }

    /// <summary>A leading word (a kind, a status, a call's op) ends at the first space.</summary>
    private static bool SplitWord(ReadOnlySpan<byte> preamble, out int space)
    {
        space = preamble.IndexOf((byte)' ');
        return space > 0;
    }

    /// <summary>Exactly four space-separated decimal numbers.</summary>
    private static bool Numbers(ReadOnlySpan<byte> text, out long a, out long b, out long c, out long d)
    {
        b = c = d = 0;
        return Next(ref text, out a) && Next(ref text, out b) && Next(ref text, out c) && Last(text, out d);
    }

    private static bool TwoNumbers(ReadOnlySpan<byte> text, out long a, out long b)
    {
        b = 0;
        return Next(ref text, out a) && Last(text, out b);
    }

    private static bool Next(ref ReadOnlySpan<byte> text, out long value)
    {
        var space = text.IndexOf((byte)' ');
        value = 0;
        if (space < 0 || !TryParseDecimal(text[..space], out value))
        {
            return false;
        }

        text = text[(space + 1)..];
        return true;
    }

    private static bool Last(ReadOnlySpan<byte> text, out long value) => TryParseDecimal(text, out value);

    /// <summary>1 to 10 ASCII digits (every length here fits an int); no sign, no spaces.</summary>
    private static bool TryParseDecimal(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 10)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return value <= int.MaxValue;
    }

    private static bool TryParseHexId(ReadOnlySpan<byte> digits, out uint id)
    {
        Span<byte> header = stackalloc byte[FrameHeader.Length];
        header.Fill((byte)'0');
        header[17] = (byte)'\n';
        digits.CopyTo(header[1..]);
        var ok = FrameHeader.TryRead(header, out var parsed);
        id = parsed.Id;
        return ok;
    }

    private static string Text(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);

    private static MalformedFrame Malformed(FrameHeader header, FrameError error, string detail) =>
        new(header.Id, header.Op, error, detail, header.PayloadLength);
}
