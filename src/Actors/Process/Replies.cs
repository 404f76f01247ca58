using System.Buffers.Text;
using System.Text;
using LuaActors.Messages;

namespace LuaActors.Process;

/// <summary>Turns the VM's reply frames ('R', 'X', 'K') into protocol records.</summary>
internal static class Replies
{
    /// <summary>An 'R' or 'X' frame as <see cref="Executed"/> or <see cref="RequestFailed"/>.</summary>
    public static ILuaActorsMessage FromExecution(string vmId, Frame frame)
    {
        var payload = frame.Payload.Span;
        var newline = payload.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return Malformed(vmId, frame);
        }

        Span<long> fields = stackalloc long[5];
        var preamble = payload[..newline];
        var body = payload[(newline + 1)..];
        if (frame.Op == Frame.Ops.Result && ParseNumbers(preamble, fields[..4]))
        {
            var (count, jsonLength, outputLength) = ((int)fields[0], (int)fields[1], (int)fields[2]);
            if (jsonLength + outputLength != body.Length)
            {
                return Malformed(vmId, frame);
            }

            return new Executed(
                vmId,
                count,
                Encoding.UTF8.GetString(body[..jsonLength]),
                Encoding.UTF8.GetString(body.Slice(jsonLength, outputLength)),
                fields[3] != 0);
        }

        if (frame.Op == Frame.Ops.Error)
        {
            var space = preamble.IndexOf((byte)' ');
            if (space > 0 && ParseNumbers(preamble[(space + 1)..], fields[..4]))
            {
                var (messageLength, tracebackLength, outputLength) = ((int)fields[0], (int)fields[1], (int)fields[2]);
                if (messageLength + tracebackLength + outputLength == body.Length)
                {
                    return new RequestFailed(
                        vmId,
                        KindOf(preamble[..space]),
                        Encoding.UTF8.GetString(body[..messageLength]),
                        Encoding.UTF8.GetString(body.Slice(messageLength, tracebackLength)),
                        Encoding.UTF8.GetString(body.Slice(messageLength + tracebackLength, outputLength)),
                        fields[3] != 0);
                }
            }
        }

        return Malformed(vmId, frame);
    }

    /// <summary>The text of an 'X' reply to a non-execute request (limits, reset), for logs.</summary>
    public static string Describe(string vmId, Frame frame) =>
        frame.Op == Frame.Ops.Error && FromExecution(vmId, frame) is RequestFailed failed
            ? $"{failed.Kind}: {failed.Message}"
            : Encoding.UTF8.GetString(frame.Payload.Span);

    private static ErrorKind KindOf(ReadOnlySpan<byte> kind) => Encoding.ASCII.GetString(kind) switch
    {
        "syntax" => ErrorKind.Syntax,
        "runtime" => ErrorKind.Runtime,
        "timeout" => ErrorKind.Timeout,
        "memory" => ErrorKind.Memory,
        "incomplete" => ErrorKind.Incomplete,
        "interrupted" => ErrorKind.Interrupted,
        "too-large" => ErrorKind.TooLarge,
        _ => ErrorKind.Protocol,
    };

    private static bool ParseNumbers(ReadOnlySpan<byte> text, Span<long> numbers)
    {
        for (var i = 0; i < numbers.Length; i++)
        {
            if (!Utf8Parser.TryParse(text, out long value, out var used) || value < 0)
            {
                return false;
            }

            numbers[i] = value;
            text = text[used..];
            if (i < numbers.Length - 1)
            {
                if (text.IsEmpty || text[0] != (byte)' ')
                {
                    return false;
                }

                text = text[1..];
            }
        }

        return text.IsEmpty;
    }

    private static RequestFailed Malformed(string vmId, Frame frame) =>
        new(vmId, ErrorKind.Protocol, $"malformed '{(char)frame.Op}' reply from the VM ({frame.Payload.Length} bytes)");
}
