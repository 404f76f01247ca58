using Akka.Cluster.Sharding;
using Akka.Configuration;
using LuaActors.Cluster;

namespace LuaActors.UnitTests;

public sealed class ShardingDefaultsTests
{
    private static Config Effective(Config current) => ShardingDefaults.Over(current).WithFallback(current);

    [Fact]
    public void Akkas_defaults_are_replaced_by_what_vms_need()
    {
        var config = Effective(ClusterSharding.DefaultConfig()).GetConfig("akka.cluster.sharding");
        Assert.Equal("on", config.GetString("remember-entities"));
        Assert.Equal("off", config.GetString("passivate-idle-entity-after"));
        Assert.Equal("ddata", config.GetString("state-store-mode"));
        Assert.Equal("500ms", config.GetString("retry-interval"));
        Assert.Empty(config.GetStringList("distributed-data.durable.keys"));
    }

    [Fact]
    public void A_value_the_application_set_stays()
    {
        var current = ConfigurationFactory.ParseString("akka.cluster.sharding.retry-interval = 3s")
            .WithFallback(ClusterSharding.DefaultConfig());
        Assert.Equal("3s", Effective(current).GetString("akka.cluster.sharding.retry-interval"));
    }

    [Fact]
    public void An_empty_configuration_gets_every_key()
    {
        var config = ShardingDefaults.Over(Config.Empty);
        Assert.Equal("on", config.GetString("akka.cluster.sharding.remember-entities"));
        Assert.Equal("off", config.GetString("akka.cluster.sharding.passivate-idle-entity-after"));
    }
}
