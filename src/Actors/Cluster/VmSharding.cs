using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Cluster;

/// <summary>Starts the shard region "vm" and this node's <see cref="ShardedManagerActor"/>.</summary>
public static class VmSharding
{
    public const string RegionName = "vm";

    /// <summary>Entities are <see cref="VmActor"/>s built with this node's <paramref name="factory"/>.</summary>
    public static IActorRef Start(ActorSystem system, Config config, IActorRef factory, VmSettings settings)
    {
        var cluster = config.GetConfig("luaactors.cluster");
        var registry = new VmRegistry(system, cluster.GetTimeSpan("registry-timeout"));
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        var region = sharding.Start(
            RegionName,
            vmId => VmActor.Props(vmId, factory, settings, registry, sharding.ShardRegion(RegionName)),
            shardingSettings,
            new VmMessageExtractor(cluster.GetInt("number-of-shards")),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            VmActor.HandOff.Instance);
        return system.ActorOf(
            ShardedManagerActor.Props(region, factory, registry, settings, cluster.GetTimeSpan("placement-wait")),
            "vm-manager");
    }
}
