using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using LuaActors.Protocol;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Persistence;
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

    private readonly VmMailboxes _mail;
    private readonly MessageDelivery _delivery;

    /// <summary>Where a <see cref="DeliverMessage"/> for another VM goes: the local manager, or the shard region.</summary>
    private readonly IActorRef _vmRouter;

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
        Receive<HostWaitExpired>(expired => _mail.ToHost.Expire(expired.WaitId)?.Tell(new ReceivedFromVm(_vmId, null)));
    }

    private void HandleMessaging(IVmCommand command, IActorRef sender)
    {
        switch (command)
        {
            case DeliverMessage deliver:
                sender.Tell(_mail.Accept(deliver, out var toVm));
                SendToVm(toVm);
                break;
            case LinkPeer link when link.PeerId.Length > 0:
                // Applied and answered once durable (VmWiringKeeper; at once with persistence off).
                _wiring.Change(Context, new WiringPeerLinked(link.PeerId), () =>
                {
                    _mail.Links.Link(link.PeerId);
                    sender.Tell(new PeerLinked(_vmId, link.PeerId));
                }, problem => sender.Tell(_wiring.Unavailable($"the link to '{link.PeerId}'", problem)));
                break;
            case UnlinkPeer unlink:
                _wiring.Change(Context, new WiringPeerUnlinked(unlink.PeerId), () =>
                {
                    _mail.Links.Unlink(unlink.PeerId);
                    sender.Tell(new PeerUnlinked(_vmId, unlink.PeerId));
                }, problem => sender.Tell(_wiring.Unavailable($"the unlink from '{unlink.PeerId}'", problem)));
                break;
            case SubscribeTopic subscribe when subscribe.Topic.Length > 0:
                Subscribe(subscribe.Topic, sender,
                    success: () => new TopicSubscribed(_vmId, subscribe.Topic),
                    failure: error => TopicFailure(subscribe.Topic, error));
                break;
            case UnsubscribeTopic unsubscribe:
                Unsubscribe(unsubscribe.Topic, sender,
                    success: () => new TopicUnsubscribed(_vmId, unsubscribe.Topic),
                    failure: error => TopicFailure(unsubscribe.Topic, error));
                break;
            case ReceiveFromVm receive when receive.WaitMs >= 0:
                if (_mail.Receive(receive, sender, out var waitId) is { } received)
                {
                    sender.Tell(received);
                }
                else
                {
                    Timers.StartSingleTimer(HostWaitTimer(waitId), new HostWaitExpired(waitId), TimeSpan.FromMilliseconds(receive.WaitMs));
                }

                break;
            default:
                sender.Tell(_answers.Invalid("a peer id and a topic must not be empty, a wait not negative"));
                break;
        }
    }

    private void OnPublished(MessagePublished published)
    {
        var taken = _mail.AcceptPublished(published, out var toVm);
        SendToVm(toVm);
        if (!taken)
        {
            // Publishing is fire-and-forget: a subscriber that cannot take the message loses it, and says so.
            _log.Warning("VM {0}: inbox full, dropped a message published on '{1}' ({2} dropped so far)", _vmId, published.Topic, _mail.DroppedPublications);
        }
    }

    /// <summary>A wait (<c>W</c>) or an abandoned wait (<c>U</c>) from the VM.</summary>
    private void OnWant(WantMessage frame) => SendToVm(_mail.Want(frame.Id));

    private void OnUnwant(UnwantMessage frame) => SendToVm(_mail.Unwant(frame.Id));

    private void SendToVm(HostFrame? frame)
    {
        if (frame is { } toVm)
        {
            _instance!.Send(toVm);
        }
    }

    /// <summary>A messaging call (<c>M</c>) from the VM.</summary>
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
                _delivery.Deliver(call.Name, call.ValueJson).PipeTo(Self, success: answer => new MessageCallAnswered(generation, MessageDelivery.Answer(call.Id, answer)));
                break;
            case "broadcast":
                _delivery.Broadcast(_mail.Links.Peers.ToArray(), call.ValueJson).PipeTo(Self, success: answer => new MessageCallAnswered(generation, MessageDelivery.Answer(call.Id, answer)));
                break;
            case "publish":
                TopicMediator.Tell(new Publish(VmTopics.Key(call.Name), new MessagePublished(call.Name, call.ValueJson, _vmId)));
                _instance!.Send(HostFrames.AnswerOk(call.Id));
                break;
            case "subscribe":
                Subscribe(call.Name, Self, success: () => new MessageCallAnswered(generation, HostFrames.AnswerOk(call.Id)), failure: Failed);
                break;
            case "unsubscribe":
                Unsubscribe(call.Name, Self, success: () => new MessageCallAnswered(generation, HostFrames.AnswerOk(call.Id)), failure: Failed);
                break;
            case "peers":
                _instance!.Send(HostFrames.AnswerOk(call.Id, JsonSerializer.Serialize(_mail.Links.Peers)));
                break;
            default:
                _instance!.Send(HostFrames.AnswerError(call.Id, $"unknown messaging call '{call.Op}'"));
                break;
        }
    }

    /// <summary>A value for the VM's owner: to the oldest waiting ReceiveFromVm, else queued (bounded like the inbox).</summary>
    private HostFrame ToHost(uint callId, string valueJson) =>
        OfferToHost(valueJson) ? HostFrames.AnswerOk(callId) : HostFrames.AnswerError(callId, _mail.HostInboxFull());

    /// <summary>False when the owner's queue is full (as many values as the inbox holds).</summary>
    private bool OfferToHost(string valueJson)
    {
        if (_mail.OfferToHost(valueJson, out var queued) is { } wait)
        {
            Timers.Cancel(HostWaitTimer(wait.WaitId));
            wait.ReplyTo.Tell(new ReceivedFromVm(_vmId, valueJson));
        }

        return queued;
    }

    private static string HostWaitTimer(long waitId) => "host-wait-" + waitId;

    private void FailHostWaits(RequestFailed failure)
    {
        foreach (var replyTo in _mail.ToHost.DropWaits())
        {
            replyTo.Tell(failure);
        }
    }

    private RequestFailed TopicFailure(string topic, Exception error) =>
        StorageUnavailableException.In(error) is { } unavailable
            ? new(_vmId, ErrorKind.StorageUnavailable, unavailable.Message)
            : new(_vmId, ErrorKind.Overloaded, $"the topic mediator did not confirm '{topic}': {error.GetBaseException().Message}");

    /// <summary>Once durable (VmWiringKeeper): the topic is the VM's, and the mediator's answer goes to <paramref name="to"/>.</summary>
    private void Subscribe(string topic, IActorRef to, Func<object> success, Func<Exception, object> failure) =>
        _wiring.Change(Context, new WiringTopicSubscribed(topic), () =>
        {
            _mail.Links.Subscribe(topic);
            ((Task)TopicMediator.Ask<SubscribeAck>(new Subscribe(VmTopics.Key(topic), Self), _settings.SendTimeout)).PipeTo(to, success: success, failure: failure);
        }, problem => to.Tell(failure(_wiring.UnavailableError($"the subscription to '{topic}'", problem))));

    private void Unsubscribe(string topic, IActorRef to, Func<object> success, Func<Exception, object> failure) =>
        _wiring.Change(Context, new WiringTopicUnsubscribed(topic), () =>
        {
            _mail.Links.Unsubscribe(topic);
            ((Task)TopicMediator.Ask<UnsubscribeAck>(new Unsubscribe(VmTopics.Key(topic), Self), _settings.SendTimeout)).PipeTo(to, success: success, failure: failure);
        }, problem => to.Tell(failure(_wiring.UnavailableError($"the unsubscription from '{topic}'", problem))));

    /// <summary>
    /// On a hand-over the inbox, peers and topics go back through the shard region, which holds
    /// them until the VM runs on its new node.
    /// </summary>
    private void HandMessagingOver()
    {
        foreach (var command in _mail.HandOver())
        {
            _vmRouter.Tell(command);
        }
    }
}
