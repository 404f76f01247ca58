using LuaActors.Messages;

namespace LuaActors.Protocol;

/// <summary>A frame from a VM, decoded (<see cref="VmFrames"/>). <see cref="Id"/> is the header's id.</summary>
public abstract record VmFrame(uint Id);

/// <summary>'K': a request succeeded; <see cref="Text"/> is empty, or the Lua version for a ping.</summary>
public sealed record OkReply(uint Id, string Text) : VmFrame(Id);

/// <summary>'R': the chunk's return values (a JSON array of <see cref="Count"/> values) and its print output.</summary>
public sealed record ResultReply(uint Id, int Count, string ValuesJson, string Output, bool OutputTruncated) : VmFrame(Id);

/// <summary>'X': the request failed. A kind the VM named but this side does not know is <see cref="ErrorKind.Protocol"/>.</summary>
public sealed record ErrorReply(uint Id, ErrorKind Kind, string Message, string Traceback, string Output, bool OutputTruncated) : VmFrame(Id);

/// <summary>'W': Lua waits in <c>vm.receive</c>; answer with one 'D' with this id. No timeout: null.</summary>
public sealed record WantMessage(uint Id, long? TimeoutMs) : VmFrame(Id);

/// <summary>'U': Lua gave up the wait <see cref="VmFrame.Id"/>; answer it now with an empty 'D' if it is still open.</summary>
public sealed record UnwantMessage(uint Id) : VmFrame(Id);

/// <summary>'M': a messaging or networking call (<c>vm.send</c>, <c>net-connect</c>, …); answer with one 'A' with this id.</summary>
/// <param name="Op">The call: send, publish, subscribe, unsubscribe, peers, broadcast, net-listen, net-unlisten, net-connect.</param>
/// <param name="Name">The target VM, the topic, or <c>&lt;ip&gt; &lt;port&gt;</c>; may be empty.</param>
/// <param name="ValueJson">The value (docs/protocol.md §7); empty when the call has none.</param>
public sealed record MessageCall(uint Id, string Op, string Name, string ValueJson) : VmFrame(Id);

/// <summary>'T': a background task printed (<c>output</c>), ended (<c>done</c>) or died (an error kind); <see cref="VmFrame.Id"/> is the task's number.</summary>
public sealed record TaskEvent(uint Id, string Status, string Message, string Traceback, string Output, bool OutputTruncated) : VmFrame(Id)
{
    /// <summary>One text for a log line.</summary>
    public string Describe() => string.Join(' ', new[] { Status, Message, Traceback, Output }.Where(part => part.Length > 0));
}

/// <summary>A frame whose header was read but whose op or payload is not the protocol's.</summary>
/// <param name="Op">The op byte as it came.</param>
/// <param name="PayloadLength">The payload's length in bytes.</param>
public sealed record MalformedFrame(uint Id, FrameOp Op, FrameError Error, string Detail, int PayloadLength) : VmFrame(Id);

/// <summary>What is wrong with a frame.</summary>
public enum FrameError
{
    /// <summary>The 18 header bytes are not op, 8 hex digits, 8 hex digits, '\n': the framing is lost.</summary>
    BadHeader,
    /// <summary>The bytes given are more than the header's length says.</summary>
    WrongLength,
    /// <summary>The bytes given, or the payload's own length fields, end before their bytes do.</summary>
    TruncatedPayload,
    /// <summary>An op the VM never sends.</summary>
    UnknownOp,
    /// <summary>The payload's preamble is not what the op's format says (not numbers, lengths that do not add up, …).</summary>
    BadPayload,
}
