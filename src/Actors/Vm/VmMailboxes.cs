using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Protocol;

namespace LuaActors.Vm;

/// <summary>
/// A VM's messaging state: its bounded inbox and the VM's waits on it, its peers and topics, and
/// what it sends its owner. It belongs to the actor: it outlives a process restart and a reset,
/// and moves with the VM when sharding hands it over. Plain state: the actor sends the frames and
/// answers it returns, and runs the timers.
/// </summary>
internal sealed class VmMailboxes(string vmId, int defaultCapacity)
{
    public VmInbox? Inbox { get; private set; }

    public VmLinks Links { get; } = new();

    public HostMailbox ToHost { get; } = new();

    /// <summary>Publications a full inbox could not take (publishing is fire-and-forget).</summary>
    public long DroppedPublications { get; private set; }

    public int InboxCount => Inbox?.Count ?? 0;

    /// <summary>The inbox opens with the VM's spec (its capacity is the spec's), once.</summary>
    public void Open(int capacity) => Inbox ??= new VmInbox(capacity);

    /// <summary>The answer to a <see cref="DeliverMessage"/>; <paramref name="toVm"/> when it answers a wait of the VM.</summary>
    public ILuaActorsMessage Accept(DeliverMessage message, out HostFrame? toVm) =>
        TryAccept(message, out toVm)
            ? new MessageAccepted(vmId, Inbox!.Count)
            : new RequestFailed(vmId, ErrorKind.InboxFull, $"inbox full: {vmId} ({Inbox!.Capacity} messages)");

    /// <summary>Hands the message to the VM's oldest open wait (the frame to send), or queues it; false when full.</summary>
    public bool TryAccept(DeliverMessage message, out HostFrame? toVm)
    {
        toVm = null;
        if (!Inbox!.TryOffer(message, out var waitId))
        {
            return false;
        }

        if (waitId is { } id)
        {
            toVm = DeliverFrame(id, message);
        }

        return true;
    }

    /// <summary>A message published on a topic: ignored unless subscribed; false when the inbox dropped it.</summary>
    public bool AcceptPublished(MessagePublished published, out HostFrame? toVm)
    {
        toVm = null;
        if (Inbox is null || !Links.IsSubscribed(published.Topic))
        {
            return true;
        }

        if (TryAccept(new DeliverMessage(vmId, published.ValueJson, published.From, published.Topic), out toVm))
        {
            return true;
        }

        DroppedPublications++;
        return false;
    }

    /// <summary>The VM waits (<c>W</c>): the frame that answers it now, or null while nothing is queued.</summary>
    public HostFrame? Want(uint waitId) => Inbox!.Want(waitId) is { } message ? DeliverFrame(waitId, message) : null;

    /// <summary>The VM gave up a wait (<c>U</c>): the "no message" frame, or null when a message answered it already.</summary>
    public HostFrame? Unwant(uint waitId) => Inbox!.Unwant(waitId) ? HostFrames.NoMessage(waitId) : null;

    /// <summary>A value for the owner: the wait it answers (answer it, cancel its timer); <paramref name="queued"/> false when full.</summary>
    public (long WaitId, IActorRef ReplyTo)? OfferToHost(string valueJson, out bool queued) =>
        ToHost.Offer(valueJson, Inbox?.Capacity ?? defaultCapacity, out queued);

    /// <summary>
    /// C#'s ReceiveFromVm: the answer now (the oldest value for the owner, or none when it does not
    /// wait), or null while <paramref name="sender"/> waits as <paramref name="waitId"/> (the actor times it out).
    /// </summary>
    public ReceivedFromVm? Receive(ReceiveFromVm receive, IActorRef sender, out long waitId)
    {
        waitId = 0;
        if (ToHost.TryTake(out var json))
        {
            return new ReceivedFromVm(vmId, json);
        }

        if (receive.WaitMs == 0)
        {
            return new ReceivedFromVm(vmId, null);
        }

        waitId = ToHost.Wait(sender);
        return null;
    }

    /// <summary>What the owner's queue being full says to the VM's <c>vm.send('$host', …)</c>.</summary>
    public string HostInboxFull() =>
        $"host inbox full: {vmId} ({Inbox?.Capacity ?? defaultCapacity} messages nobody took with ReceiveFromVmAsync)";

    /// <summary>
    /// On a hand-over: the queued messages, peers and topics, as the commands that rebuild them
    /// on the VM's new node (through the shard region, which holds them until it runs). Empties the inbox.
    /// </summary>
    public IEnumerable<IVmMessagingCommand> HandOver()
    {
        if (Inbox is null)
        {
            yield break;
        }

        while (Inbox.TryTake(out var message))
        {
            yield return message;
        }

        foreach (var peer in Links.Peers)
        {
            yield return new LinkPeer(vmId, peer);
        }

        foreach (var topic in Links.Topics)
        {
            yield return new SubscribeTopic(vmId, topic);
        }
    }

    private static HostFrame DeliverFrame(uint waitId, DeliverMessage message) =>
        HostFrames.Deliver(waitId, message.From, message.Topic, message.ValueJson);
}
