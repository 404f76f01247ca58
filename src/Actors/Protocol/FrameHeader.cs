namespace LuaActors.Protocol;

/// <summary>
/// The 18-byte ASCII header every frame starts with, both ways (docs/protocol.md §2): op, id
/// (8 hex digits), payload length (8 hex digits), '\n'.
/// </summary>
public readonly record struct FrameHeader(FrameOp Op, uint Id, int PayloadLength)
{
    public const int Length = 18;

    /// <summary>The header and the payload together.</summary>
    public int FrameLength => Length + PayloadLength;

    /// <summary>Writes the header into the first <see cref="Length"/> bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, FrameOp op, uint id, int payloadLength)
    {
        destination = destination[..Length];
        destination[0] = (byte)op;
        WriteHex(destination.Slice(1, 8), id);
        WriteHex(destination.Slice(9, 8), (uint)payloadLength);
        destination[17] = (byte)'\n';
    }

    /// <summary>
    /// Reads a header from the first <see cref="Length"/> bytes of <paramref name="source"/>;
    /// false when they are not a header (the framing is lost). Any op byte is read: which ops
    /// are known is the decoder's business. Hex digits may be upper case, like the VM accepts.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        if (source.Length < Length || source[17] != (byte)'\n'
            || !TryReadHex(source.Slice(1, 8), out var id) || !TryReadHex(source.Slice(9, 8), out var length)
            || length > int.MaxValue - Length)
        {
            header = default;
            return false;
        }

        header = new FrameHeader((FrameOp)source[0], id, (int)length);
        return true;
    }

    /// <summary>The op as the protocol document writes it: the letter, or <c>byte 0xNN</c>.</summary>
    public static string Show(FrameOp op) =>
        (byte)op is >= 0x21 and < 0x7f ? $"'{(char)op}'" : $"byte 0x{(byte)op:x2}";

    private static void WriteHex(Span<byte> destination, uint value)
    {
        for (var i = 7; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    private static bool TryReadHex(ReadOnlySpan<byte> digits, out uint value)
    {
        value = 0;
        foreach (var c in digits)
        {
            uint digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => (uint)(c - '0'),
                >= (byte)'a' and <= (byte)'f' => (uint)(c - 'a' + 10),
                >= (byte)'A' and <= (byte)'F' => (uint)(c - 'A' + 10),
                _ => uint.MaxValue,
            };
            if (digit == uint.MaxValue)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }
}
