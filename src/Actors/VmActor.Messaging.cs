using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using LuaActors.Protocol;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Process;
using LuaActors.Vm;

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

    private readonly VmLinks _links = new();
    private readonly HostMailbox _toHost = new();

    /// <summary>Where a <see cref="DeliverMessage"/> for another VM goes: the local manager, or the shard region.</summary>
    private readonly IActorRef _vmRouter;
    private VmInbox? _inbox;
    private long _droppedPublications;

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
        Receive<HostWaitExpired>(expired => _toHost.Expire(expired.WaitId)?.Tell(new ReceivedFromVm(_vmId, null)));
    }

    private void CreateInbox() => _inbox ??= new VmInbox(_limits.InboxCapacity);

    /// <summary>Whether <paramref name="command"/> is served by the actor alone, whatever its process is doing.</summary>

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
                _links.Link(link.PeerId);
                sender.Tell(new PeerLinked(_vmId, link.PeerId));
                break;
            case UnlinkPeer unlink:
                _links.Unlink(unlink.PeerId);
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
                if (_toHost.TryTake(out var json))
                {
                    sender.Tell(new ReceivedFromVm(_vmId, json));
                }
                else if (receive.WaitMs == 0)
                {
                    sender.Tell(new ReceivedFromVm(_vmId, null));
                }
                else
                {
                    var waitId = _toHost.Wait(sender);
                    Timers.StartSingleTimer(HostWaitTimer(waitId), new HostWaitExpired(waitId), TimeSpan.FromMilliseconds(receive.WaitMs));
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
        if (_inbox is null || !_links.IsSubscribed(published.Topic))
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
    private void OnWant(WantMessage frame)
    {
        if (_inbox!.Want(frame.Id) is { } message)
        {
            _instance!.Send(HostFrames.Deliver(frame.Id, message.From, message.Topic, message.ValueJson));
        }
    }

    private void OnUnwant(UnwantMessage frame)
    {
        if (_inbox!.Unwant(frame.Id))
        {
            _instance!.Send(HostFrames.NoMessage(frame.Id));
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
                _instance!.Send(ToHost(call.Id, call.ValueJson));
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
                _instance!.Send(HostFrames.AnswerOk(call.Id, JsonSerializer.Serialize(_links.Peers)));
                break;
            default:
                _instance!.Send(HostFrames.AnswerError(call.Id, $"unknown messaging call '{call.Op}'"));
                break;
        }
    }

    /// <summary>A value for the VM's owner: to the oldest waiting ReceiveFromVm, else queued (bounded like the inbox).</summary>
    private HostFrame ToHost(uint callId, string valueJson)
    {
        if (!OfferToHost(valueJson))
        {
            return HostFrames.AnswerError(callId, $"host inbox full: {_vmId} ({_inbox!.Capacity} messages nobody took with ReceiveFromVmAsync)");
        }

        return HostFrames.AnswerOk(callId);
    }

    /// <summary>False when the owner's queue is full (as many values as the inbox holds).</summary>
    private bool OfferToHost(string valueJson)
    {
        if (_toHost.Offer(valueJson, _inbox?.Capacity ?? _settings.InboxCapacity, out var queued) is { } wait)
        {
            Timers.Cancel(HostWaitTimer(wait.WaitId));
            wait.ReplyTo.Tell(new ReceivedFromVm(_vmId, valueJson));
        }

        return queued;
    }

    private static string HostWaitTimer(long waitId) => "host-wait-" + waitId;

    private void FailHostWaits(RequestFailed failure)
    {
        foreach (var replyTo in _toHost.DropWaits())
        {
            replyTo.Tell(failure);
        }
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
            return await _vmRouter.Ask<object>(new DeliverMessage(target, valueJson, _vmId), timeout).ConfigureAwait(false) switch
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
        var peers = _links.Peers.ToArray();
        var answers = await Task.WhenAll(peers.Select(peer => Deliver(peer, valueJson)).ToList()).ConfigureAwait(false);
        var failures = answers.Where(a => !a.Ok).Select(a => a.Text).ToArray();
        return failures.Length == 0
            ? (true, peers.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : (false, $"delivered to {peers.Length - failures.Length} of {peers.Length} peers; {string.Join("; ", failures)}");
    }

    private Task Subscribe(string topic)
    {
        _links.Subscribe(topic);
        return TopicMediator.Ask<SubscribeAck>(new Subscribe(VmTopics.Key(topic), Self), _settings.SendTimeout);
    }

    private Task Unsubscribe(string topic)
    {
        _links.Unsubscribe(topic);
        return TopicMediator.Ask<UnsubscribeAck>(new Unsubscribe(VmTopics.Key(topic), Self), _settings.SendTimeout);
    }

    /// <summary>
    /// On a hand-over the inbox, peers and topics go back through the shard region, which holds
    /// them until the VM runs on its new node.
    /// </summary>
    private void HandMessagingOver()
    {
        if (_inbox is null)
        {
            return;
        }

        var region = _vmRouter;
        while (_inbox.TryTake(out var message))
        {
            region.Tell(message);
        }

        foreach (var peer in _links.Peers)
        {
            region.Tell(new LinkPeer(_vmId, peer));
        }

        foreach (var topic in _links.Topics)
        {
            region.Tell(new SubscribeTopic(_vmId, topic));
        }
    }
}
