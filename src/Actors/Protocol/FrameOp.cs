namespace LuaActors.Protocol;

/// <summary>The op byte of a frame (docs/protocol.md §3, §4, §11.1): one ASCII letter.</summary>
public enum FrameOp : byte
{
    // Requests, host to VM: each gets exactly one reply, in request order.
    Limits = (byte)'L',
    Execute = (byte)'E',
    Eval = (byte)'V',
    Ping = (byte)'P',
    Reset = (byte)'Z',
    Quit = (byte)'Q',

    // Host to VM, not requests (no reply of their own).
    Interrupt = (byte)'I',
    Deliver = (byte)'D',
    Answer = (byte)'A',

    // Replies, VM to host.
    Ok = (byte)'K',
    Result = (byte)'R',
    Error = (byte)'X',

    // VM to host at any time, never replies.
    Want = (byte)'W',
    Unwant = (byte)'U',
    Message = (byte)'M',
    TaskEvent = (byte)'T',
}
