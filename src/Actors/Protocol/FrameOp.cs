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

/// <summary>What kind of frame an op starts.</summary>
public static class FrameOps
{
    /// <summary>The frames a VM sends on its own, at any time (docs/protocol.md §11.1): never the reply to a request.</summary>
    public static bool IsVmInitiated(this FrameOp op) =>
        op is FrameOp.Want or FrameOp.Unwant or FrameOp.Message or FrameOp.TaskEvent;
}
