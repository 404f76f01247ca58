using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace LuaActors.Messaging;

/// <summary>
/// Where VMs subscribe and publish (<c>vm.subscribe</c>, <c>vm.publish</c>, C#'s
/// <c>PublishAsync</c>): in a cluster, Akka's DistributedPubSub mediator, so topics span the
/// nodes; in a local actor system, a <see cref="LocalTopicsActor"/> that speaks the same
/// Subscribe/Unsubscribe/Publish messages. One per actor system.
/// </summary>
public sealed class VmTopics : IExtension
{
    // Topic names are user strings; the prefix keeps them apart from the application's own topics.
    private const string Prefix = "luaactors.vm.";

    public VmTopics(ExtendedActorSystem system)
    {
        Mediator = system.Provider is Akka.Cluster.ClusterActorRefProvider
            ? DistributedPubSub.Get(system).Mediator
            : system.SystemActorOf(LocalTopicsActor.Props(), "luaactors-topics");
    }

    /// <summary>Takes Akka.Cluster.Tools' <see cref="Subscribe"/>, <see cref="Unsubscribe"/> and <see cref="Publish"/>.</summary>
    public IActorRef Mediator { get; }

    public static VmTopics Get(ActorSystem system) => system.WithExtension<VmTopics, VmTopicsProvider>();

    /// <summary>The mediator's name for a VM topic.</summary>
    public static string Key(string topic) => Prefix + topic;
}

public sealed class VmTopicsProvider : ExtensionIdProvider<VmTopics>
{
    public override VmTopics CreateExtension(ExtendedActorSystem system) => new(system);
}
