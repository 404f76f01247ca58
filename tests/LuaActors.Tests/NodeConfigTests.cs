using Akka.Cluster;
using Akka.Configuration;
using LuaActors.Host;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>hocon/node.conf and how a --config file and the options are laid over it.</summary>
public sealed class NodeConfigTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private static Config Build(NodeOptions options) => ConfigurationFactory.ParseString(NodeConfig.Build(options));

    [Fact]
    public void The_defaults_make_a_cluster_node_with_the_split_brain_resolver()
    {
        var config = Build(new NodeOptions());
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.True(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
        Assert.True(config.GetBoolean("akka.cluster.run-coordinated-shutdown-when-down"));
        Assert.Equal("127.0.0.1:5080", config.GetString("luaactors.node.http"));
        // Only how often the leader and the reaper look; the safety margins keep Akka's values.
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.leader-actions-interval"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.unreachable-nodes-reaper-interval"));
        Assert.False(config.HasPath("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.False(config.HasPath("akka.cluster.down-removal-margin"));
    }

    [Fact]
    public void The_fast_failover_profile_cuts_the_three_margins_and_keeps_the_rest_of_node_conf()
    {
        var config = Build(new NodeOptions { ConfigFile = Path.Combine(TestPaths.RepoRoot, "hocon", "fast-failover.conf") });
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.down-removal-margin"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.True(config.GetBoolean("akka.cluster.split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.leader-actions-interval"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
    }

    [Fact]
    public async Task A_config_file_is_laid_over_the_defaults_and_the_options_over_the_file()
    {
        using var file = await TempFile.WithTextAsync("""
            akka.remote.dot-netty.tcp { hostname = "10.1.2.3", port = 4999 }
            akka.cluster.seed-nodes = ["akka.tcp://luaactors@10.1.2.3:4999"]
            luaactors.node.http = "127.0.0.1:6000"
            luaactors.vm.default-timeout = 2s
            """);
        var fromFile = Build(new NodeOptions { ConfigFile = file.Path });
        Assert.Equal("10.1.2.3", fromFile.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4999, fromFile.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://luaactors@10.1.2.3:4999"], fromFile.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(TimeSpan.FromSeconds(2), fromFile.GetTimeSpan("luaactors.vm.default-timeout"));
        // Keys the file does not set keep node.conf's values.
        Assert.Equal("keep-majority", fromFile.GetString("akka.cluster.split-brain-resolver.active-strategy"));

        var overridden = Build(new NodeOptions
        {
            ConfigFile = file.Path,
            Hostname = "node-b.example.org",
            Port = 0,
            Seeds = ["akka.tcp://luaactors@node-a.example.org:4053", "akka.tcp://luaactors@node-b.example.org:4053"],
        });
        Assert.Equal("node-b.example.org", overridden.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(0, overridden.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(2, overridden.GetStringList("akka.cluster.seed-nodes").Count);
    }

    [Theory]
    [InlineData("akka.tcp://luaactors@127.0.0.1")]
    [InlineData("http://127.0.0.1:4053")]
    [InlineData("akka.tcp://luaactor@127.0.0.1:4053")]
    [InlineData("not an address")]
    public void A_bad_seed_is_refused(string seed) =>
        Assert.Throws<NodeOptionsException>(() => NodeConfig.Build(new NodeOptions { Seeds = [seed] }));

    [Theory]
    [InlineData("akka { x = ")]
    [InlineData("a = \"unterminated")]
    [InlineData("a = ${nope}")]
    public async Task Invalid_hocon_in_a_config_file_is_refused_with_its_name(string hocon)
    {
        // (An unclosed '[' makes Akka's parser loop forever: NodeProcessTests checks that one,
        // in a process of its own.)
        using var file = await TempFile.WithTextAsync(hocon);
        var error = Assert.Throws<NodeOptionsException>(() => NodeConfig.Build(new NodeOptions { ConfigFile = file.Path }));
        Assert.Contains(file.Path, error.Message);
    }

    [Fact]
    public void A_running_node_downs_with_the_resolver_whose_removal_margin_is_stable_after()
    {
        // Configuration only: that a lost node's VMs come back elsewhere is shown with real node
        // processes by tests/cluster/three-nodes.sh (ThreeNodeClusterTests); how long that takes
        // is the bench's to measure (docs/performance.md), never a test's assertion.
        var cluster = Akka.Cluster.Cluster.Get(fixture.Node.System);
        Assert.IsType<Akka.Cluster.SBR.SplitBrainResolverProvider>(cluster.DowningProvider);
        // down-removal-margin is off, so the resolver's margin is stable-after: sharding waits
        // that long past a downing before it starts the downed node's VMs elsewhere (the
        // reasoning in hocon/node.conf).
        Assert.Equal(TimeSpan.FromSeconds(5), cluster.DowningProvider.DownRemovalMargin);
        Assert.Equal(fixture.Node.Address, cluster.SelfAddress);
        Assert.NotEqual(4053, cluster.SelfAddress.Port);
    }

    [Theory]
    [InlineData("127.0.0.1:5080", true)]
    [InlineData("localhost:0", true)]
    [InlineData("[::1]:5080", true)]
    [InlineData("http://127.0.0.1:5080/", true)]
    [InlineData("0.0.0.0:5080", false)]
    [InlineData("10.0.0.5:5080", false)]
    public void Http_addresses_parse_and_know_loopback(string text, bool loopback) =>
        Assert.Equal(loopback, HttpEndpoint.Parse(text).IsLoopback);
}
