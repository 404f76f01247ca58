using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace LuaActors.Messaging;

/// <summary>
/// Topics inside one actor system without a cluster: the subset of DistributedPubSub's mediator
/// protocol that VMs use (subscribe and unsubscribe with acks, publish to every subscriber).
/// A subscriber that stops is unsubscribed.
/// </summary>
public sealed class LocalTopicsActor : ReceiveActor
{
    private readonly Dictionary<string, HashSet<IActorRef>> _subscribers = new(StringComparer.Ordinal);

    public LocalTopicsActor()
    {
        Receive<Subscribe>(subscribe =>
        {
            if (!_subscribers.TryGetValue(subscribe.Topic, out var set))
            {
                _subscribers[subscribe.Topic] = set = [];
            }

            set.Add(subscribe.Ref);
            Context.Watch(subscribe.Ref);
            Sender.Tell(new SubscribeAck(subscribe));
        });
        Receive<Unsubscribe>(unsubscribe =>
        {
            if (_subscribers.TryGetValue(unsubscribe.Topic, out var set) && set.Remove(unsubscribe.Ref) && set.Count == 0)
            {
                _subscribers.Remove(unsubscribe.Topic);
            }

            Sender.Tell(new UnsubscribeAck(unsubscribe));
        });
        Receive<Publish>(publish =>
        {
            if (_subscribers.TryGetValue(publish.Topic, out var set))
            {
                foreach (var subscriber in set)
                {
                    subscriber.Tell(publish.Message, Sender);
                }
            }
        });
        Receive<Terminated>(terminated =>
        {
            foreach (var (topic, set) in _subscribers.ToList())
            {
                if (set.Remove(terminated.ActorRef) && set.Count == 0)
                {
                    _subscribers.Remove(topic);
                }
            }
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new LocalTopicsActor());
}
