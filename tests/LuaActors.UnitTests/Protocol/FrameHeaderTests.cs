using System.Text;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Protocol;

public sealed class FrameHeaderTests
{
    [Theory]
    [InlineData(FrameOp.Execute, 0x2au, 0x1c, "E0000002a0000001c\n")]
    [InlineData(FrameOp.Ok, 0u, 0, "K0000000000000000\n")]
    [InlineData(FrameOp.Result, uint.MaxValue, 0x7fffffed, "Rffffffff7fffffed\n")]
    public void Header_is_written_as_documented_and_reads_back(FrameOp op, uint id, int length, string text)
    {
        var bytes = new byte[FrameHeader.Length];
        FrameHeader.Write(bytes, op, id, length);
        Assert.Equal(text, Encoding.ASCII.GetString(bytes));

        Assert.True(FrameHeader.TryRead(bytes, out var header));
        Assert.Equal(new FrameHeader(op, id, length), header);
    }

    [Fact]
    public void Upper_case_hex_is_read_like_the_vm_reads_it()
    {
        Assert.True(FrameHeader.TryRead("R0000002A0000001C\n"u8, out var header));
        Assert.Equal(new FrameHeader(FrameOp.Result, 0x2a, 0x1c), header);
    }

    [Theory]
    [InlineData("R0000002g0000001c\n")] // not hex in the id
    [InlineData("R0000002a 000001c\n")] // not hex in the length
    [InlineData("R0000002a0000001c ")] // no newline at byte 17
    [InlineData("R0000002a-000001c\n")]
    [InlineData("R0000002a0000001")] // short
    [InlineData("Rffffffffffffffff\n")] // a length no frame can have
    public void Malformed_headers_are_refused(string text)
    {
        Assert.False(FrameHeader.TryRead(Encoding.ASCII.GetBytes(text), out _));
    }

    [Theory]
    [InlineData((byte)'E', "'E'")]
    [InlineData((byte)0x01, "byte 0x01")]
    [InlineData((byte)' ', "byte 0x20")]
    public void Ops_are_shown_as_the_protocol_names_them(byte op, string shown)
    {
        Assert.Equal(shown, FrameHeader.Show((FrameOp)op));
    }
}
