using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Messaging;

namespace LuaActors.Api;

/// <summary>Messaging between VMs, from C# (docs/api.md, "Messaging"): the other end of <c>vm.receive</c>.</summary>
public sealed partial class VmManager
{
    // Values that reached a ReceiveFromVmAsync after it was cancelled, per VM, for the next call.
    private readonly Dictionary<string, Queue<string>> _keptFromVms = new(StringComparer.Ordinal);

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
    /// A value over <c>luaactors.limits.max-message-size</c> serialized throws <see cref="TooLargeException"/>.
    /// </summary>
    public Task PublishAsync(string topic, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var json = LuaValueJson.Encode(value);
        if (SizeLimits.Of(System).CheckRequest(new DeliverMessage(topic, json)) is { } tooLarge)
        {
            throw new TooLargeException(topic, tooLarge.Message);
        }

        VmTopics.Get(System).Mediator.Tell(new Publish(VmTopics.Key(topic), new MessagePublished(topic, json)));
        return Task.CompletedTask;
    }

    /// <summary>
    /// The next value the VM sent to its host with <c>vm.send('$host', value)</c>, waiting up to
    /// <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: until one comes);
    /// null when none came in time. Values wait in the VM's actor (bounded like its inbox) until
    /// taken. Cancelling <paramref name="cancellationToken"/> ends the wait with an
    /// <see cref="OperationCanceledException"/>; a value that reaches the cancelled wait is kept
    /// for the next call, not lost.
    /// </summary>
    public async Task<JsonElement?> ReceiveFromVmAsync(string vmId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        CheckId(vmId);
        ThrowIfDisposed();
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a wait is positive, zero, or Timeout.InfiniteTimeSpan");
        }

        // Long waits go as a series of short ones: the VM's timer, the ask and the cluster's relay
        // deadline all take a finite wait (an infinite one would overflow them), and between two
        // a value that reached an earlier, cancelled call is picked up.
        var deadline = timeout == Timeout.InfiniteTimeSpan ? (long?)null : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TakeKept(vmId) is { } kept)
            {
                return Parse(kept);
            }

            var left = deadline is { } end ? Math.Max(0, end - Environment.TickCount64) : HostWaitSliceMs;
            var waitMs = (int)Math.Min(left, HostWaitSliceMs);
            // The ask is not cancelled with the token: its answer may carry a value the VM already
            // gave away, so a cancelled wait hands that value to the next call instead.
            var ask = AskAsync<ReceivedFromVm>(new ReceiveFromVm(vmId, waitMs), TimeSpan.FromMilliseconds(waitMs) + _askTimeout, CancellationToken.None);
            ReceivedFromVm received;
            try
            {
                received = await ask.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                KeepLateValue(vmId, ask);
                throw;
            }

            if (received.ValueJson is not null)
            {
                return Parse(received.ValueJson);
            }

            if (deadline is { } due && Environment.TickCount64 >= due)
            {
                return null;
            }
        }
    }

    // One wait of a ReceiveFromVmAsync: a longer one is a series of these.
    private const int HostWaitSliceMs = 1_000;

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private string? TakeKept(string vmId)
    {
        lock (_keptFromVms)
        {
            if (_keptFromVms.TryGetValue(vmId, out var queue) && queue.TryDequeue(out var json))
            {
                if (queue.Count == 0)
                {
                    _keptFromVms.Remove(vmId);
                }

                return json;
            }

            return null;
        }
    }

    private void KeepLateValue(string vmId, Task<ReceivedFromVm> ask) =>
        ask.ContinueWith(
            answered =>
            {
                // Nobody awaits this ask any more: a failure of it (the VM removed meanwhile) is moot.
                _ = answered.Exception;
                if (answered.IsCompletedSuccessfully && answered.Result.ValueJson is { } json)
                {
                    lock (_keptFromVms)
                    {
                        if (!_keptFromVms.TryGetValue(vmId, out var queue))
                        {
                            _keptFromVms[vmId] = queue = new Queue<string>();
                        }

                        queue.Enqueue(json);
                    }
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

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
        CheckId(vmId);
        CheckId(peerId);
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
