using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using LuaActors.Configuration;

namespace LuaActors.Cluster;

/// <summary>The <see cref="ActorRegistry"/> key of the shard region "vm" (<c>registry.Get&lt;VmShardRegion&gt;()</c>).</summary>
public sealed class VmShardRegion
{
    private VmShardRegion()
    {
    }
}

/// <summary>
/// Starts the shard region "vm" and this node's <see cref="ShardedManagerActor"/>, from
/// <see cref="Api.AkkaHostingExtensions.WithLuaActors(AkkaConfigurationBuilder)"/>'s actor start-up;
/// the region goes into the <see cref="ActorRegistry"/> as <see cref="VmShardRegion"/>. (Not
/// Akka.Cluster.Hosting's WithShardRegion: whether the system is a cluster is known only once it
/// runs, and the entities need this node's factory and registry.)
/// </summary>
public static class VmSharding
{
    public const string RegionName = "vm";

    /// <summary>Entities are <see cref="VmActor"/>s built with this node's <paramref name="factory"/>.</summary>
    public static IActorRef Start(ActorSystem system, Config config, IActorRef factory, VmSettings settings)
    {
        var cluster = config.GetConfig("luaactors.cluster");
        // Persistence on: the specs in the database, through the journal singleton; off: the
        // replicated in-memory registry (durable DistributedData hangs here: LMDB).
        var registry = Persistence.LuaActorsPersistence.Get(system).StartClusterStore()
            ?? new VmRegistry(system, cluster.GetTimeSpan("registry-timeout"));
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        var region = sharding.Start(
            RegionName,
            vmId => VmActor.Props(vmId, factory, settings, registry, sharding.ShardRegion(RegionName)),
            shardingSettings,
            new VmMessageExtractor(cluster.GetInt("number-of-shards")),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            VmActor.HandOff.Instance);
        ActorRegistry.For(system).Register<VmShardRegion>(region, overwrite: true);
        return system.ActorOf(
            ShardedManagerActor.Props(region, factory, registry, settings, cluster.GetTimeSpan("placement-wait")),
            "vm-manager");
    }
}
