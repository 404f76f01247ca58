using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using LuaActors.Cluster;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Protocol;

namespace LuaActors;

/// <summary>
/// The C# half of messaging between VMs (docs/protocol.md §11.5): the VM's bounded inbox, its
/// waits for a message, its messaging calls (<c>vm.send</c>, <c>vm.publish</c>, …), its topics
/// and its peers. Inbox, topics and peers belong to the actor: they outlive a process restart
/// and a reset, and move with the VM when sharding hands it over to another node.
/// </summary>
public sealed partial class VmActor
{
    /// <summary>The answer to a messaging call of process <see cref="Generation"/>, ready to send as an <c>A</c> frame.</summary>
    private sealed record MessageCallAnswered(int Generation, HostFrame Answer);

    private sealed record HostWaitExpired(long WaitId);

    /// <summary>The target of <c>vm.send</c> that means "my owner": C#'s ReceiveFromVmAsync takes it. No VM id has a '$'.</summary>
    private const string HostTarget = "$host";

    private readonly SortedSet<string> _peers = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _topics = new(StringComparer.Ordinal);
    private readonly Queue<string> _toHost = new();
    private readonly List<(long WaitId, IActorRef ReplyTo)> _hostWaits = [];
    private long _nextHostWait;
    private VmInbox? _inbox;
    private IActorRef? _vmRouter;
    private long _droppedPublications;

    /// <summary>Where a <see cref="DeliverMessage"/> for another VM goes: the manager (local) or the shard region.</summary>
    private IActorRef VmRouter => _vmRouter ??= _registry is null
        ? Context.Parent
        : ClusterSharding.Get(Context.System).ShardRegion(VmSharding.RegionName);

    private IActorRef TopicMediator => VmTopics.Get(Context.System).Mediator;

    private void ReceiveMessaging()
    {
        Receive<MessagePublished>(OnPublished);
        Receive<MessageCallAnswered>(answered =>
        {
            if (answered.Generation == _generation && _instance is not null)
            {
                _instance.Send(answered.Answer);
            }
        });
        Receive<HostWaitExpired>(expired =>
        {
            var index = _hostWaits.FindIndex(w => w.WaitId == expired.WaitId);
            if (index >= 0)
            {
                _hostWaits[index].ReplyTo.Tell(new ReceivedFromVm(_vmId, null));
                _hostWaits.RemoveAt(index);
            }
        });
    }

    private void CreateInbox(VmLimits limits) => _inbox ??= new VmInbox(limits.InboxCapacity ?? _settings.InboxCapacity);

    private void HandleMessaging(IVmCommand command, IActorRef sender)
    {
        switch (command)
        {
            case DeliverMessage deliver:
                sender.Tell(TryTakeIntoInbox(deliver)
                    ? new MessageAccepted(_vmId, _inbox!.Count)
                    : new RequestFailed(_vmId, ErrorKind.InboxFull, $"inbox full: {_vmId} ({_inbox!.Capacity} messages)"));
                break;
            case LinkPeer link when link.PeerId.Length > 0:
                _peers.Add(link.PeerId);
                sender.Tell(new PeerLinked(_vmId, link.PeerId));
                break;
            case UnlinkPeer unlink:
                _peers.Remove(unlink.PeerId);
                sender.Tell(new PeerUnlinked(_vmId, unlink.PeerId));
                break;
            case SubscribeTopic subscribe when subscribe.Topic.Length > 0:
                Subscribe(subscribe.Topic).PipeTo(sender,
                    success: () => new TopicSubscribed(_vmId, subscribe.Topic),
                    failure: error => TopicFailure(subscribe.Topic, error));
                break;
            case UnsubscribeTopic unsubscribe:
                Unsubscribe(unsubscribe.Topic).PipeTo(sender,
                    success: () => new TopicUnsubscribed(_vmId, unsubscribe.Topic),
                    failure: error => TopicFailure(unsubscribe.Topic, error));
                break;
            case ReceiveFromVm receive when receive.WaitMs >= 0:
                if (_toHost.TryDequeue(out var json))
                {
                    sender.Tell(new ReceivedFromVm(_vmId, json));
                }
                else if (receive.WaitMs == 0)
                {
                    sender.Tell(new ReceivedFromVm(_vmId, null));
                }
                else
                {
                    var waitId = ++_nextHostWait;
                    _hostWaits.Add((waitId, sender));
                    Timers.StartSingleTimer("host-wait-" + waitId, new HostWaitExpired(waitId), TimeSpan.FromMilliseconds(receive.WaitMs));
                }

                break;
            default:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, "a peer id and a topic must not be empty, a wait not negative"));
                break;
        }
    }

    /// <summary>Hands the message to the VM's oldest open wait, or queues it; false when the inbox is full.</summary>
    private bool TryTakeIntoInbox(DeliverMessage message)
    {
        if (!_inbox!.TryOffer(message, out var waitId))
        {
            return false;
        }

        if (waitId is { } id)
        {
            _instance!.Send(HostFrames.Deliver(id, message.From, message.Topic, message.ValueJson));
        }

        return true;
    }

    private void OnPublished(MessagePublished published)
    {
        if (_inbox is null || !_topics.Contains(published.Topic))
        {
            return;
        }

        if (!TryTakeIntoInbox(new DeliverMessage(_vmId, published.ValueJson, published.From, published.Topic)))
        {
            // Publishing is fire-and-forget: a subscriber that cannot take the message loses it, and says so.
            _droppedPublications++;
            _log.Warning("VM {0}: inbox full, dropped a message published on '{1}' ({2} dropped so far)", _vmId, published.Topic, _droppedPublications);
        }
    }

    /// <summary>A wait (<c>W</c>), an abandoned wait (<c>U</c>) or a messaging call (<c>M</c>) from the VM.</summary>
    private void OnWant(WantMessage want)
    {
        if (_inbox!.Want(want.Id) is { } message)
        {
            _instance!.Send(HostFrames.Deliver(want.Id, message.From, message.Topic, message.ValueJson));
        }
    }

    private void OnUnwant(UnwantMessage unwant)
    {
        if (_inbox!.Unwant(unwant.Id))
        {
            _instance!.Send(HostFrames.NoMessage(unwant.Id));
        }
    }

    private void OnMessageCall(MessageCall call)
    {
        if (OnNetworkCall(call))
        {
            return;
        }

        // A value for another VM (or the host) crosses the cluster like a request: over the size limit it is
        // refused here, at once, instead of being dropped by remoting while the sender waits.
        if (call.Op is "send" or "broadcast" or "publish"
            && _sizeLimits.CheckRequest(new DeliverMessage(call.Name, call.ValueJson, _vmId)) is { } tooLarge)
        {
            _instance!.Send(HostFrames.AnswerError(call.Id, $"too large: {tooLarge.Message}"));
            return;
        }

        var generation = _generation;
        MessageCallAnswered Failed(Exception error) =>
            new(generation, HostFrames.AnswerError(call.Id, $"topic '{call.Name}': {error.GetBaseException().Message}"));
        switch (call.Op)
        {
            case "send" when call.Name == HostTarget:
                _instance!.Send(ToHost(call));
                break;
            case "send":
                Deliver(call.Name, call.ValueJson).PipeTo(Self, success: answer => new MessageCallAnswered(generation, Answer(call.Id, answer)));
                break;
            case "broadcast":
                Broadcast(call.ValueJson).PipeTo(Self, success: answer => new MessageCallAnswered(generation, Answer(call.Id, answer)));
                break;
            case "publish":
                TopicMediator.Tell(new Publish(VmTopics.Key(call.Name), new MessagePublished(call.Name, call.ValueJson, _vmId)));
                _instance!.Send(HostFrames.AnswerOk(call.Id));
                break;
            case "subscribe":
                Subscribe(call.Name).PipeTo(Self, success: () => new MessageCallAnswered(generation, HostFrames.AnswerOk(call.Id)), failure: Failed);
                break;
            case "unsubscribe":
                Unsubscribe(call.Name).PipeTo(Self, success: () => new MessageCallAnswered(generation, HostFrames.AnswerOk(call.Id)), failure: Failed);
                break;
            case "peers":
                _instance!.Send(HostFrames.AnswerOk(call.Id, JsonSerializer.Serialize(_peers)));
                break;
            default:
                _instance!.Send(HostFrames.AnswerError(call.Id, $"unknown messaging call '{call.Op}'"));
                break;
        }
    }

    /// <summary>A value for the VM's owner: to the oldest waiting ReceiveFromVm, else queued (bounded like the inbox).</summary>
    private HostFrame ToHost(MessageCall call)
    {
        if (_hostWaits.Count > 0)
        {
            var (waitId, replyTo) = _hostWaits[0];
            _hostWaits.RemoveAt(0);
            Timers.Cancel("host-wait-" + waitId);
            replyTo.Tell(new ReceivedFromVm(_vmId, call.ValueJson));
            return HostFrames.AnswerOk(call.Id);
        }

        if (_toHost.Count >= _inbox!.Capacity)
        {
            return HostFrames.AnswerError(call.Id, $"host inbox full: {_vmId} ({_inbox.Capacity} messages nobody took with ReceiveFromVmAsync)");
        }

        _toHost.Enqueue(call.ValueJson);
        return HostFrames.AnswerOk(call.Id);
    }

    private void FailHostWaits(RequestFailed failure)
    {
        foreach (var (_, replyTo) in _hostWaits)
        {
            replyTo.Tell(failure);
        }

        _hostWaits.Clear();
    }

    private RequestFailed TopicFailure(string topic, Exception error) =>
        new(_vmId, ErrorKind.Overloaded, $"the topic mediator did not confirm '{topic}': {error.GetBaseException().Message}");

    private static HostFrame Answer(uint callId, (bool Ok, string Text) answer) =>
        answer.Ok ? HostFrames.AnswerOk(callId, answer.Text) : HostFrames.AnswerError(callId, answer.Text);

    /// <summary>
    /// Asks <paramref name="target"/>'s actor to take the value; the text is a Lua error message on
    /// failure. Call it on the actor's thread: everything it reads is read before the first await.
    /// </summary>
    private async Task<(bool Ok, string Text)> Deliver(string target, string valueJson)
    {
        var timeout = _settings.SendTimeout;
        try
        {
            return await VmRouter.Ask<object>(new DeliverMessage(target, valueJson, _vmId), timeout).ConfigureAwait(false) switch
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
    private async Task<(bool Ok, string Text)> Broadcast(string valueJson)
    {
        var peers = _peers.ToArray();
        var answers = await Task.WhenAll(peers.Select(peer => Deliver(peer, valueJson)).ToList()).ConfigureAwait(false);
        var failures = answers.Where(a => !a.Ok).Select(a => a.Text).ToArray();
        return failures.Length == 0
            ? (true, peers.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : (false, $"delivered to {peers.Length - failures.Length} of {peers.Length} peers; {string.Join("; ", failures)}");
    }

    private Task Subscribe(string topic)
    {
        _topics.Add(topic);
        return TopicMediator.Ask<SubscribeAck>(new Subscribe(VmTopics.Key(topic), Self), _settings.SendTimeout);
    }

    private Task Unsubscribe(string topic)
    {
        _topics.Remove(topic);
        return TopicMediator.Ask<UnsubscribeAck>(new Unsubscribe(VmTopics.Key(topic), Self), _settings.SendTimeout);
    }

    /// <summary>
    /// On a hand-over the inbox, peers and topics go back through the shard region, which holds
    /// them until the VM runs on its new node.
    /// </summary>
    private void HandMessagingOver()
    {
        if (_registry is null || _inbox is null)
        {
            return;
        }

        var region = VmRouter;
        while (_inbox.TryTake(out var message))
        {
            region.Tell(message);
        }

        foreach (var peer in _peers)
        {
            region.Tell(new LinkPeer(_vmId, peer));
        }

        foreach (var topic in _topics)
        {
            region.Tell(new SubscribeTopic(_vmId, topic));
        }
    }
}
