using System.Text;
using LuaActors.Messages;
using LuaActors.Process;

namespace LuaActors.Messaging;

/// <summary>A VM's messaging call (an <c>M</c> frame): <c>vm.send</c>, <c>vm.publish</c>, … (docs/protocol.md §11.1).</summary>
internal sealed record MessageCall(uint CallId, string Op, string Name, string ValueJson);

/// <summary>The payloads of the messaging frames <c>M</c>, <c>D</c> and <c>A</c>.</summary>
internal static class MessageFrames
{
    /// <summary>Parses <c>&lt;op&gt; &lt;name_len&gt; &lt;json_len&gt;\n&lt;name&gt;&lt;json&gt;</c>; null when malformed.</summary>
    public static MessageCall? ParseCall(Frame frame)
    {
        var payload = frame.Payload.Span;
        var newline = payload.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return null;
        }

        var header = Encoding.ASCII.GetString(payload[..newline]).Split(' ');
        if (header.Length != 3
            || !int.TryParse(header[1], out var nameLength) || !int.TryParse(header[2], out var jsonLength)
            || nameLength < 0 || jsonLength < 0 || newline + 1 + nameLength + jsonLength != payload.Length)
        {
            return null;
        }

        var body = payload[(newline + 1)..];
        return new MessageCall(
            frame.Id,
            header[0],
            Encoding.UTF8.GetString(body[..nameLength]),
            Encoding.UTF8.GetString(body.Slice(nameLength, jsonLength)));
    }

    /// <summary>A <c>D</c> answering wait <paramref name="waitId"/>: the message, or none.</summary>
    public static byte[] Deliver(uint waitId, DeliverMessage? message)
    {
        if (message is null)
        {
            return Frame.Encode(Frame.Ops.Deliver, waitId, ReadOnlySpan<byte>.Empty);
        }

        var from = Encoding.UTF8.GetBytes(message.From ?? "");
        var topic = Encoding.UTF8.GetBytes(message.Topic ?? "");
        var json = Encoding.UTF8.GetBytes(message.ValueJson);
        var preamble = Encoding.ASCII.GetBytes($"{from.Length} {topic.Length} {json.Length}\n");
        var payload = new byte[preamble.Length + from.Length + topic.Length + json.Length];
        preamble.CopyTo(payload, 0);
        from.CopyTo(payload, preamble.Length);
        topic.CopyTo(payload, preamble.Length + from.Length);
        json.CopyTo(payload, preamble.Length + from.Length + topic.Length);
        return Frame.Encode(Frame.Ops.Deliver, waitId, payload);
    }

    /// <summary>An <c>A</c> that makes the call return <c>true</c>, or <paramref name="valueJson"/> decoded.</summary>
    public static byte[] Ok(uint callId, string valueJson = "") => Frame.Encode(Frame.Ops.Answer, callId, "ok\n", valueJson);

    /// <summary>An <c>A</c> that makes the call raise <paramref name="message"/> in the calling Lua code.</summary>
    public static byte[] Error(uint callId, string message) => Frame.Encode(Frame.Ops.Answer, callId, "error\n", message);
}
