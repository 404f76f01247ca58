using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Protocol;

namespace LuaActors.Messaging;

/// <summary>
/// <c>vm.send</c> and <c>vm.broadcast</c> to other VMs: asks each target's actor (through
/// <c>ask</c>: the local manager or the shard region) to take the value, and turns its answer
/// into what the Lua call returns; the text is a Lua error message on failure.
/// </summary>
internal sealed class MessageDelivery(string from, Func<DeliverMessage, Task<object>> ask, TimeSpan timeout)
{
    public async Task<(bool Ok, string Text)> Deliver(string target, string valueJson)
    {
        try
        {
            return await ask(new DeliverMessage(target, valueJson, from)).ConfigureAwait(false) switch
            {
                MessageAccepted => (true, ""),
                RequestFailed { Kind: ErrorKind.NotFound } => (false, $"unknown target '{target}'"),
                RequestFailed failed when failed.Kind == ErrorKind.InboxFull => (false, failed.Message),
                RequestFailed failed => (false, $"cannot deliver to '{target}': {failed.Kind}: {failed.Message}"),
                var other => (false, $"cannot deliver to '{target}': unexpected answer {other.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            return (false, $"cannot deliver to '{target}': no answer within {timeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Sends to every peer; all or an error naming each peer that did not take it (the others did).</summary>
    public async Task<(bool Ok, string Text)> Broadcast(IReadOnlyCollection<string> peers, string valueJson)
    {
        var answers = await Task.WhenAll(peers.Select(peer => Deliver(peer, valueJson)).ToList()).ConfigureAwait(false);
        var failures = answers.Where(a => !a.Ok).Select(a => a.Text).ToArray();
        return failures.Length == 0
            ? (true, peers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : (false, $"delivered to {peers.Count - failures.Length} of {peers.Count} peers; {string.Join("; ", failures)}");
    }

    /// <summary>The <c>A</c> frame that answers the VM's call <paramref name="callId"/>.</summary>
    public static HostFrame Answer(uint callId, (bool Ok, string Text) answer) =>
        answer.Ok ? HostFrames.AnswerOk(callId, answer.Text) : HostFrames.AnswerError(callId, answer.Text);
}
