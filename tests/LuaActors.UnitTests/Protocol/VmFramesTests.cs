using System.Text;
using LuaActors.Messages;
using LuaActors.Protocol;

namespace LuaActors.UnitTests.Protocol;

/// <summary>Every VM→host frame: the byte-exact examples of docs/protocol.md, round trips, and malformed frames.</summary>
public sealed class VmFramesTests
{
    [Fact]
    public void Documented_replies_decode()
    {
        Assert.Equal(new OkReply(1, "Lua 5.4"), Decode(@"K0000000100000007\nLua 5.4"));
        Assert.Equal(new OkReply(2, ""), Decode(@"K0000000200000000\n"));
        Assert.Equal(new ResultReply(3, 1, "[2]", "", false), Decode(@"R000000030000000b\n1 3 0 0\n[2]"));
        Assert.Equal(new ResultReply(4, 4, "[1,null,\"x\",0.5]", "hi\n", false), Decode(@"R000000040000001c\n4 16 3 0\n[1,null,""x"",0.5]hi\n"));
        Assert.Equal(new ErrorReply(5, ErrorKind.Syntax, "exec:1: unexpected symbol near '+'", "", "", false),
            Decode(@"X0000000500000032\nsyntax 34 0 0 0\nexec:1: unexpected symbol near '+'"));
        Assert.Equal(
            new ErrorReply(6, ErrorKind.Runtime, "exec:1: boom",
                "stack traceback:\n\t[C]: in function 'error'\n\texec:1: in local 'f'\n\texec:2: in main chunk", "", false),
            Decode(@"X0000000600000075\nruntime 12 87 0 0\nexec:1: boomstack traceback:\n\t[C]: in function 'error'\n\texec:1: in local 'f'\n\texec:2: in main chunk"));
        Assert.Equal(new ErrorReply(7, ErrorKind.Timeout, "timeout: execution exceeded 100 ms", "stack traceback:\n\texec:1: in main chunk", "", false),
            Decode(@"X000000070000005b\ntimeout 34 39 0 0\ntimeout: execution exceeded 100 msstack traceback:\n\texec:1: in main chunk"));
        Assert.Equal(new ErrorReply(8, ErrorKind.Incomplete, "stdin:1: 'end' expected near <eof>", "", "", false),
            Decode(@"X0000000800000036\nincomplete 34 0 0 0\nstdin:1: 'end' expected near <eof>"));
        Assert.Equal(new ErrorReply(11, ErrorKind.Protocol, "unknown op 'Y'", "", "", false),
            Decode(@"X0000000b00000020\nprotocol 14 0 0 0\nunknown op 'Y'"));
        Assert.Equal(new ErrorReply(9, ErrorKind.Interrupted, "interrupted", "stack traceback:\n\texec:1: in main chunk", "", false),
            Decode(@"X0000000900000048\ninterrupted 11 39 0 0\ninterruptedstack traceback:\n\texec:1: in main chunk"));
    }

    [Fact]
    public void Documented_vm_initiated_frames_decode()
    {
        Assert.Equal(new WantMessage(1, 2000), Decode(@"W0000000100000004\n2000"));
        Assert.Equal(new MessageCall(2, "send", "vm-9", "[1,2.5]"), Decode(@"M0000000200000014\nsend 4 7\nvm-9[1,2.5]"));
    }

    [Theory]
    [InlineData(0, "[]", "", false)]
    [InlineData(3, "[1,null,null]", "printed\n", false)]
    [InlineData(1, "[\"ünï ✓ 😀\"]", "x\n...[output truncated]\n", true)]
    public void Results_round_trip(int count, string json, string output, bool truncated)
    {
        Assert.Equal(new ResultReply(0xfffffffe, count, json, output, truncated),
            VmFrames.Decode(WireText.Result(0xfffffffe, count, json, output, truncated)));
    }

    [Theory]
    [InlineData("syntax", ErrorKind.Syntax)]
    [InlineData("runtime", ErrorKind.Runtime)]
    [InlineData("timeout", ErrorKind.Timeout)]
    [InlineData("memory", ErrorKind.Memory)]
    [InlineData("interrupted", ErrorKind.Interrupted)]
    [InlineData("incomplete", ErrorKind.Incomplete)]
    [InlineData("too-large", ErrorKind.TooLarge)]
    [InlineData("protocol", ErrorKind.Protocol)]
    public void Errors_of_every_kind_the_vm_names_round_trip(string wireKind, ErrorKind kind)
    {
        Assert.Equal(new ErrorReply(12, kind, "msg é", "stack traceback:\n\texec:1: in main chunk", "out\n", true),
            VmFrames.Decode(WireText.Error(12, wireKind, "msg é", "stack traceback:\n\texec:1: in main chunk", "out\n", true)));
    }

    [Fact]
    public void An_error_kind_this_side_does_not_know_is_a_protocol_error_with_the_vms_message()
    {
        var decoded = Assert.IsType<ErrorReply>(VmFrames.Decode(WireText.Error(1, "cosmic-ray", "flipped", "", "", false)));
        Assert.Equal((ErrorKind.Protocol, "flipped"), (decoded.Kind, decoded.Message));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("86400000")]
    [InlineData("9000000000000")] // longer than an int: a wait of ~285 years is still a wait
    public void Wants_round_trip(string timeout)
    {
        var decoded = Assert.IsType<WantMessage>(VmFrames.Decode(WireText.VmFrame('W', 5, WireText.Utf8(timeout))));
        Assert.Equal(timeout.Length == 0 ? null : long.Parse(timeout), decoded.TimeoutMs);
        Assert.Equal(5u, decoded.Id);
    }

    [Fact]
    public void Unwant_decodes()
    {
        Assert.Equal(new UnwantMessage(6), VmFrames.Decode(WireText.VmFrame('U', 6, [])));
    }

    [Theory]
    [InlineData("send", "vm-b", "{\"x\":1}")]
    [InlineData("send", "$host", "\"ü\"")]
    [InlineData("publish", "news ✓", "[1]")]
    [InlineData("subscribe", "news", "")]
    [InlineData("unsubscribe", "news", "")]
    [InlineData("peers", "", "")]
    [InlineData("broadcast", "", "42")]
    [InlineData("net-listen", "127.0.0.1 20900", "")]
    [InlineData("net-unlisten", "::1 20900", "")]
    [InlineData("net-connect", "10.0.0.1 8080", "")]
    public void Message_calls_round_trip(string op, string name, string json)
    {
        Assert.Equal(new MessageCall(0x10, op, name, json), VmFrames.Decode(WireText.Call(0x10, op, name, json)));
    }

    [Theory]
    [InlineData("output", "", "", "tick\n", false)]
    [InlineData("done", "", "", "", false)]
    [InlineData("runtime", "exec:3: bad", "stack traceback:\n\t...", "before\n", true)]
    [InlineData("timeout", "timeout: execution exceeded 5000 ms", "", "", false)]
    public void Task_events_round_trip(string status, string message, string traceback, string output, bool truncated)
    {
        Assert.Equal(new TaskEvent(3, status, message, traceback, output, truncated),
            VmFrames.Decode(WireText.Task(3, status, message, traceback, output, truncated)));
    }

    [Fact]
    public void A_bad_header_is_a_typed_error_with_the_id_when_it_was_hex()
    {
        var malformed = Assert.IsType<MalformedFrame>(Decode(@"R0000002a0000001x\n1 3 0 0\n[2]"));
        Assert.Equal((FrameError.BadHeader, 0x2au), (malformed.Error, malformed.Id));

        malformed = Assert.IsType<MalformedFrame>(VmFrames.Decode("Rzz"u8));
        Assert.Equal((FrameError.BadHeader, 0u), (malformed.Error, malformed.Id));
    }

    [Fact]
    public void More_bytes_than_the_header_says_is_a_wrong_length()
    {
        var frame = WireText.Result(1, 1, "[2]", "", false).Concat("K"u8.ToArray()).ToArray();
        Assert.Equal(FrameError.WrongLength, Assert.IsType<MalformedFrame>(VmFrames.Decode(frame)).Error);
    }

    [Fact]
    public void Fewer_bytes_than_the_header_says_is_a_truncated_payload()
    {
        var frame = WireText.Result(1, 1, "[2]", "", false);
        var malformed = Assert.IsType<MalformedFrame>(VmFrames.Decode(frame.AsSpan(0, frame.Length - 1)));
        Assert.Equal((FrameError.TruncatedPayload, FrameOp.Result, 1u), (malformed.Error, malformed.Op, malformed.Id));
    }

    [Theory]
    [InlineData('Y')]
    [InlineData('E')] // a host op coming back
    [InlineData('\u0001')]
    public void An_op_the_vm_never_sends_is_an_unknown_op(char op)
    {
        var malformed = Assert.IsType<MalformedFrame>(VmFrames.Decode(WireText.VmFrame(op, 4, "x"u8.ToArray())));
        Assert.Equal((FrameError.UnknownOp, (FrameOp)op, 4u), (malformed.Error, malformed.Op, malformed.Id));
    }

    [Theory]
    [InlineData('R', @"1 5 0 0\n[2]", FrameError.TruncatedPayload)] // json_len past the end
    [InlineData('R', @"1 2 0 0\n[2]", FrameError.WrongLength)] // bytes nobody accounts for
    [InlineData('X', @"runtime 9 0 0 0\nboom", FrameError.TruncatedPayload)]
    [InlineData('M', @"send 9 0\nvm-9", FrameError.TruncatedPayload)]
    [InlineData('T', @"done 0 0 1 0\n", FrameError.TruncatedPayload)]
    [InlineData('R', @"[2]", FrameError.BadPayload)] // no preamble line
    [InlineData('R', @"1 3 0\n[2]", FrameError.BadPayload)] // a number short
    [InlineData('R', @"1 3 0 0 0\n[2]", FrameError.BadPayload)] // a number too many
    [InlineData('R', @"1 -3 0 0\n[2]", FrameError.BadPayload)]
    [InlineData('R', @"1 3  0 0\n[2]", FrameError.BadPayload)]
    [InlineData('X', @"0 0 0 0\n", FrameError.BadPayload)] // no kind
    [InlineData('X', @" 1 0 0 0\nx", FrameError.BadPayload)] // an empty kind
    [InlineData('M', @"send 0\n", FrameError.BadPayload)]
    [InlineData('M', @"send x 0\n", FrameError.BadPayload)]
    [InlineData('W', @"2.5", FrameError.BadPayload)]
    [InlineData('W', @" ", FrameError.BadPayload)]
    public void Payloads_that_break_their_format_are_typed_errors(char op, string documented, FrameError error)
    {
        // The header is right: what is wrong is inside the payload.
        var malformed = Assert.IsType<MalformedFrame>(VmFrames.Decode(WireText.VmFrame(op, 1, WireText.Bytes(documented))));
        Assert.Equal(error, malformed.Error);
        Assert.Equal(1u, malformed.Id);
    }

    [Fact]
    public void Replies_become_the_requesters_messages()
    {
        Assert.Equal(new Executed("vm1", 1, "[2]", "hi\n", true), new ResultReply(3, 1, "[2]", "hi\n", true).ToMessage("vm1"));
        Assert.Equal(new RequestFailed("vm1", ErrorKind.Memory, "m", "tb", "o", true),
            new ErrorReply(3, ErrorKind.Memory, "m", "tb", "o", true).ToMessage("vm1"));

        var malformed = Assert.IsType<RequestFailed>(Decode(@"R0000000100000003\n[2]").ToMessage("vm1"));
        Assert.Equal(ErrorKind.Protocol, malformed.Kind);
        Assert.Contains("malformed 'R' reply from the VM (3 bytes)", malformed.Message, StringComparison.Ordinal);

        Assert.Equal(ErrorKind.Protocol, Assert.IsType<RequestFailed>(new OkReply(1, "").ToMessage("vm1")).Kind);
    }

    [Fact]
    public void Only_w_u_m_t_are_frames_the_vm_sends_on_its_own()
    {
        Assert.Equal(
            [FrameOp.Message, FrameOp.TaskEvent, FrameOp.Unwant, FrameOp.Want],
            Enum.GetValues<FrameOp>().Where(op => op.IsVmInitiated()).Order());
    }

    private static VmFrame Decode(string documented) => VmFrames.Decode(WireText.Bytes(documented));
}
