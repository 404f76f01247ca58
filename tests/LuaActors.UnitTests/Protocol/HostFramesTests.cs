using System.Text;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Protocol;

/// <summary>Every host→VM frame: byte-exact against docs/protocol.md, and read back the way vmhost.lua reads it.</summary>
public sealed class HostFramesTests
{
    [Theory]
    [InlineData(3u, 0, 0, "return 1+1", @"E000000030000000e\n0 0\nreturn 1+1")]
    [InlineData(4u, 0, 0, "print('hi') return 1, nil, 'x', 0.5", @"E0000000400000027\n0 0\nprint('hi') return 1, nil, 'x', 0.5")]
    [InlineData(7u, 100, 0, "while true do end", @"E0000000700000017\n100 0\nwhile true do end")]
    public void Execute_is_byte_exact(uint id, int timeoutMs, long memoryKb, string code, string documented)
    {
        AssertFrame(documented, HostFrames.Execute(id, timeoutMs, memoryKb, code));
    }

    [Fact]
    public void Eval_is_byte_exact()
    {
        AssertFrame(@"V0000000800000010\n0 0\nfunction f()", HostFrames.Eval(8, 0, 0, "function f()"));
        AssertFrame(@"V0000000900000009\n0 0\n1 + 1", HostFrames.Eval(9, 0, 0, "1 + 1"));
    }

    [Fact]
    public void Requests_without_payload_are_byte_exact()
    {
        AssertFrame(@"P0000000100000000\n", HostFrames.Ping(1));
        AssertFrame(@"Z0000002a00000000\n", HostFrames.Reset(42));
        AssertFrame(@"Qffffffff00000000\n", HostFrames.Quit(uint.MaxValue));
        AssertFrame(@"I0000000900000000\n", HostFrames.Interrupt(9));
        AssertFrame(@"D0000000500000000\n", HostFrames.NoMessage(5));
    }

    [Fact]
    public void Deliver_and_answer_are_byte_exact()
    {
        AssertFrame(@"D000000010000001c\n4 0 17\nvm-b{""greeting"":""hi""}", HostFrames.Deliver(1, "vm-b", null, @"{""greeting"":""hi""}"));
        AssertFrame(@"A000000020000001b\nerror\nunknown target 'vm-9'", HostFrames.AnswerError(2, "unknown target 'vm-9'"));
        AssertFrame(@"A0000000300000003\nok\n", HostFrames.AnswerOk(3));
        AssertFrame(@"A0000000400000008\nok\n[1,2]", HostFrames.AnswerOk(4, "[1,2]"));
    }

    [Theory]
    [InlineData(FrameOp.Execute, "")]
    [InlineData(FrameOp.Execute, "return 'é', \"\\0\" -- ünïcödé ✓ 😀")]
    [InlineData(FrameOp.Eval, "x = 5\n\n  y = 6 -- lines and\ttabs")]
    public void Execute_and_eval_round_trip(FrameOp op, string code)
    {
        var frame = op == FrameOp.Eval ? HostFrames.Eval(77, 2500, 32768, code) : HostFrames.Execute(77, 2500, 32768, code);
        var (readOp, id, payload) = WireText.Split(frame.Span);
        Assert.Equal((op, 77u), (readOp, id));
        var (timeout, memory, text) = ReadRequestPayload(payload);
        Assert.Equal((2500L, 32768L, code), (timeout, memory, text));
        Assert.Equal(77u, frame.Id);
        Assert.Equal(op, frame.Op);
        frame.Release();
    }

    [Fact]
    public void A_big_chunk_round_trips_and_its_frame_is_exactly_its_size()
    {
        // Over the size up to which the encoder rents the worst case: counted exactly instead.
        var code = "return '" + new string('é', 40_000) + "'";
        var frame = HostFrames.Execute(1, 5000, 0, code);
        Assert.Equal(FrameHeader.Length + "5000 0\n".Length + Encoding.UTF8.GetByteCount(code), frame.Length);
        Assert.Equal(code, ReadRequestPayload(WireText.Split(frame.Span).Payload).Text);
        frame.Release();
    }

    [Fact]
    public void Released_buffers_are_reused_without_mixing_frames()
    {
        var first = HostFrames.Execute(1, 1, 1, new string('a', 500));
        first.Release();
        AssertFrame(@"E000000020000000c\n2 2\nreturn 2", HostFrames.Execute(2, 2, 2, "return 2"));
    }

    [Fact]
    public void Limits_round_trip_with_every_key_as_lines()
    {
        var frame = HostFrames.Limits(1, new HostLimits(2000, 32768, 1048576, 4096, 16777216, "vm-1"));
        var (op, id, payload) = WireText.Split(frame.Span);
        Assert.Equal((FrameOp.Limits, 1u), (op, id));
        Assert.Equal(
            "timeout_ms=2000\nmemory_kb=32768\noutput_cap=1048576\nresult_cap=4096\nrep_cap=16777216\nvm_id=vm-1\n",
            Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public void Limits_of_a_networking_vm_add_the_net_keys()
    {
        var net = new NetLimits(["127.0.0.1", "::1"], 20000, 29999, 64);
        var frame = HostFrames.Limits(2, new HostLimits(5000, 65536, 10, 0, 20, "vm-é", net));
        var lines = ReadLimitLines(WireText.Split(frame.Span).Payload);
        Assert.Equal("1", lines["net"]);
        Assert.Equal("127.0.0.1,::1", lines["net_bind"]);
        Assert.Equal("20000-29999", lines["net_ports"]);
        Assert.Equal("64", lines["net_sockets"]);
        Assert.Equal("vm-é", lines["vm_id"]);
        Assert.Equal("5000", lines["timeout_ms"]);
        Assert.Equal(10, lines.Count);
    }

    [Theory]
    [InlineData("vm-b", "news", "{\"a\":[1,2.5,\"ü\"]}")]
    [InlineData(null, null, "42")]
    [InlineData("", "t", "\"\"")]
    [InlineData("vm-😀", "tö pic", "null")]
    public void Deliver_round_trips(string? from, string? topic, string json)
    {
        var (op, id, payload) = WireText.Split(HostFrames.Deliver(99, from, topic, json).Span);
        Assert.Equal((FrameOp.Deliver, 99u), (op, id));

        // vmhost.lua: three byte lengths on the first line, then the three parts back to back.
        var newline = Array.IndexOf(payload, (byte)'\n');
        var lengths = Encoding.ASCII.GetString(payload, 0, newline).Split(' ').Select(int.Parse).ToArray();
        Assert.Equal(3, lengths.Length);
        var body = payload.AsSpan(newline + 1);
        Assert.Equal(lengths.Sum(), body.Length);
        Assert.Equal(from ?? "", Encoding.UTF8.GetString(body[..lengths[0]]));
        Assert.Equal(topic ?? "", Encoding.UTF8.GetString(body.Slice(lengths[0], lengths[1])));
        Assert.Equal(json, Encoding.UTF8.GetString(body[(lengths[0] + lengths[1])..]));
    }

    [Theory]
    [InlineData(true, "")]
    [InlineData(true, "[\"vm-a\",\"vm-ü\"]")]
    [InlineData(false, "connection not allowed: 127.0.0.1:8080 is neither …")]
    public void Answers_round_trip(bool ok, string text)
    {
        var frame = ok ? HostFrames.AnswerOk(0xdeadbeef, text) : HostFrames.AnswerError(0xdeadbeef, text);
        var (op, id, payload) = WireText.Split(frame.Span);
        Assert.Equal((FrameOp.Answer, 0xdeadbeefu), (op, id));
        var newline = Array.IndexOf(payload, (byte)'\n');
        Assert.Equal(ok ? "ok" : "error", Encoding.ASCII.GetString(payload, 0, newline));
        Assert.Equal(text, Encoding.UTF8.GetString(payload.AsSpan(newline + 1)));
    }

    private static void AssertFrame(string documented, HostFrame frame)
    {
        Assert.Equal(Encoding.UTF8.GetString(WireText.Bytes(documented)), Encoding.UTF8.GetString(frame.Span));
        frame.Release();
    }

    /// <summary>Like vmhost.lua: "&lt;timeout_ms&gt; &lt;memory_kb&gt;\n", then the text to the end.</summary>
    private static (long Timeout, long Memory, string Text) ReadRequestPayload(byte[] payload)
    {
        var newline = Array.IndexOf(payload, (byte)'\n');
        var numbers = Encoding.ASCII.GetString(payload, 0, newline).Split(' ');
        Assert.Equal(2, numbers.Length);
        return (long.Parse(numbers[0]), long.Parse(numbers[1]), Encoding.UTF8.GetString(payload.AsSpan(newline + 1)));
    }

    private static Dictionary<string, string> ReadLimitLines(byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return text.TrimEnd('\n').Split('\n').Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    }
}
