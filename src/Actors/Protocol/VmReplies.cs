using LuaActors.Messages;

namespace LuaActors.Protocol;

/// <summary>A VM's reply to a request as the message the requester gets.</summary>
public static class VmReplies
{
    /// <summary>
    /// An 'R' as <see cref="Executed"/>, an 'X' as <see cref="RequestFailed"/>; anything else
    /// where a result belongs (a 'K', a malformed frame) as a <see cref="ErrorKind.Protocol"/> failure.
    /// </summary>
    public static ILuaActorsMessage ToMessage(this VmFrame reply, string vmId) => reply switch
    {
        ResultReply result => new Executed(vmId, result.Count, result.ValuesJson, result.Output, result.OutputTruncated),
        ErrorReply error => new RequestFailed(vmId, error.Kind, error.Message, error.Traceback, error.Output, error.OutputTruncated),
        MalformedFrame malformed => new RequestFailed(vmId, ErrorKind.Protocol,
            $"malformed {FrameHeader.Show(malformed.Op)} reply from the VM ({malformed.PayloadLength} bytes): {malformed.Detail}"),
        _ => new RequestFailed(vmId, ErrorKind.Protocol, $"unexpected {Describe(reply)} from the VM where a result belongs"),
    };

    /// <summary>What a frame says, for a log line or an error message.</summary>
    public static string Describe(this VmFrame frame) => frame switch
    {
        ErrorReply error => $"{error.Kind}: {error.Message}",
        OkReply ok => ok.Text.Length == 0 ? "'K'" : $"'K' {ok.Text}",
        ResultReply result => $"'R' with {result.Count} values",
        MalformedFrame malformed => $"malformed {FrameHeader.Show(malformed.Op)} frame ({malformed.Error}: {malformed.Detail})",
        _ => frame.GetType().Name,
    };
}
