using System.Buffers.Text;
using System.Text;

namespace LuaActors.Process;

/// <summary>
/// One frame of the VM host protocol (docs/protocol.md): an 18-byte ASCII header — op, request
/// id (8 hex digits), payload length (8 hex digits), '\n' — then raw payload bytes.
/// </summary>
public readonly record struct Frame(byte Op, uint Id, ReadOnlyMemory<byte> Payload)
{
    public const int HeaderLength = 18;

    /// <summary>Request ops (host to VM).</summary>
    public static class Ops
    {
        public const byte Limits = (byte)'L';
        public const byte Execute = (byte)'E';
        public const byte Eval = (byte)'V';
        public const byte Ping = (byte)'P';
        public const byte Reset = (byte)'Z';
        public const byte Quit = (byte)'Q';
        public const byte Interrupt = (byte)'I';
        public const byte Deliver = (byte)'D';
        public const byte Answer = (byte)'A';

        // Replies (VM to host).
        public const byte Ok = (byte)'K';
        public const byte Result = (byte)'R';
        public const byte Error = (byte)'X';

        // Frames the VM sends on its own, at any time (never replies): docs/protocol.md §11.
        public const byte Want = (byte)'W';
        public const byte Unwant = (byte)'U';
        public const byte Message = (byte)'M';
        public const byte TaskEvent = (byte)'T';
    }

    /// <summary>Header and payload in one array, so a frame is one write to the pipe.</summary>
    public static byte[] Encode(byte op, uint id, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[HeaderLength + payload.Length];
        bytes[0] = op;
        WriteHex(bytes.AsSpan(1, 8), id);
        WriteHex(bytes.AsSpan(9, 8), (uint)payload.Length);
        bytes[17] = (byte)'\n';
        payload.CopyTo(bytes.AsSpan(HeaderLength));
        return bytes;
    }

    /// <summary>A frame whose payload is an ASCII preamble line followed by raw text.</summary>
    public static byte[] Encode(byte op, uint id, string preamble, string body)
    {
        var preambleBytes = preamble.Length;
        var bodyBytes = Encoding.UTF8.GetByteCount(body);
        var bytes = new byte[HeaderLength + preambleBytes + bodyBytes];
        bytes[0] = op;
        WriteHex(bytes.AsSpan(1, 8), id);
        WriteHex(bytes.AsSpan(9, 8), (uint)(preambleBytes + bodyBytes));
        bytes[17] = (byte)'\n';
        Encoding.ASCII.GetBytes(preamble, bytes.AsSpan(HeaderLength));
        Encoding.UTF8.GetBytes(body, bytes.AsSpan(HeaderLength + preambleBytes));
        return bytes;
    }

    /// <summary>Reads a header; false when it is malformed (the VM broke the protocol).</summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> header, out byte op, out uint id, out int length)
    {
        op = header[0];
        length = 0;
        if (header[17] != (byte)'\n'
            || !Utf8Parser.TryParse(header.Slice(1, 8), out id, out var idBytes, 'x') || idBytes != 8
            || !Utf8Parser.TryParse(header.Slice(9, 8), out uint len, out var lenBytes, 'x') || lenBytes != 8
            || len > int.MaxValue)
        {
            id = 0;
            return false;
        }

        length = (int)len;
        return true;
    }

    private static void WriteHex(Span<byte> destination, uint value)
    {
        const string digits = "0123456789abcdef";
        for (var i = 7; i >= 0; i--)
        {
            destination[i] = (byte)digits[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}
