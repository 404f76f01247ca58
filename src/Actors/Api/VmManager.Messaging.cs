using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using LuaActors.Messages;
using LuaActors.Messaging;

namespace LuaActors.Api;

/// <summary>Messaging between VMs, from C# (docs/api.md, "Messaging"): the other end of <c>vm.receive</c>.</summary>
public sealed partial class VmManager
{
    /// <summary>
    /// Puts <paramref name="value"/> into the VM's inbox, where its <c>vm.receive()</c> returns it
    /// with no sender. Values convert like <see cref="LuaValueJson.Encode"/> says. Throws
    /// <see cref="VmInboxFullException"/> when the inbox is full, <see cref="VmNotFoundException"/>
    /// for an unknown VM. Returns how many messages wait in the inbox now.
    /// </summary>
    public async Task<int> SendAsync(string vmId, object? value, CancellationToken cancellationToken = default) =>
        (await AskAsync<MessageAccepted>(new DeliverMessage(vmId, LuaValueJson.Encode(value)), _askTimeout, cancellationToken)
            .ConfigureAwait(false)).InboxCount;

    /// <summary>
    /// Publishes <paramref name="value"/> to every VM subscribed to <paramref name="topic"/>, on
    /// any node. Fire-and-forget like any pub/sub: a subscriber whose inbox is full drops it.
    /// </summary>
    public Task PublishAsync(string topic, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var json = LuaValueJson.Encode(value);
        VmTopics.Get(System).Mediator.Tell(new Publish(VmTopics.Key(topic), new MessagePublished(topic, json)));
        return Task.CompletedTask;
    }

    /// <summary>
    /// The next value the VM sent to its host with <c>vm.send('$host', value)</c>, waiting up to
    /// <paramref name="timeout"/>; null when none came. Values wait in the VM's actor (bounded
    /// like its inbox) until taken.
    /// </summary>
    public async Task<JsonElement?> ReceiveFromVmAsync(string vmId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var waitMs = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue / 2);
        var received = await AskAsync<ReceivedFromVm>(new ReceiveFromVm(vmId, waitMs), timeout + _askTimeout, cancellationToken).ConfigureAwait(false);
        if (received.ValueJson is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(received.ValueJson);
        return document.RootElement.Clone();
    }

    /// <summary>Subscribes the VM to <paramref name="topic"/>, as its own <c>vm.subscribe</c> would.</summary>
    public Task SubscribeAsync(string vmId, string topic, CancellationToken cancellationToken = default) =>
        AskAsync<TopicSubscribed>(new SubscribeTopic(vmId, topic), _askTimeout, cancellationToken);

    public Task UnsubscribeAsync(string vmId, string topic, CancellationToken cancellationToken = default) =>
        AskAsync<TopicUnsubscribed>(new UnsubscribeTopic(vmId, topic), _askTimeout, cancellationToken);

    /// <summary>
    /// Links two VMs both ways (the old <c>establish_p2p_with</c>): each lists the other in
    /// <c>vm.peers()</c> and reaches it with <c>vm.broadcast(value)</c>. Both must exist.
    /// </summary>
    public async Task LinkAsync(string vmId, string peerId, CancellationToken cancellationToken = default)
    {
        if (vmId == peerId)
        {
            throw new InvalidVmRequestException(vmId, "a VM cannot be its own peer");
        }

        await AskAsync<PeerLinked>(new LinkPeer(vmId, peerId), _askTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            await AskAsync<PeerLinked>(new LinkPeer(peerId, vmId), _askTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Half a link would let one side broadcast to a VM that cannot answer: undo it.
            await AskAsync<PeerUnlinked>(new UnlinkPeer(vmId, peerId), _askTimeout, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Removes the link both ways; a side that no longer exists is skipped.</summary>
    public async Task UnlinkAsync(string vmId, string peerId, CancellationToken cancellationToken = default)
    {
        foreach (var (from, to) in new[] { (vmId, peerId), (peerId, vmId) })
        {
            try
            {
                await AskAsync<PeerUnlinked>(new UnlinkPeer(from, to), _askTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (VmNotFoundException)
            {
            }
        }
    }
}
