using LuaActors.Host;

namespace LuaActors.UnitTests;

/// <summary>
/// How a node's settings are resolved: command line over LUAACTORS_* over the --config file over
/// hocon/node.conf (docs/configuration.md, "Precedence"), and what is refused.
/// </summary>
public sealed class NodeSettingsTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static readonly Func<string, string?> NoEnv = _ => null;

    [Fact]
    public void The_defaults_make_a_cluster_node_with_the_split_brain_resolver()
    {
        var settings = NodeSettings.Resolve(new NodeOptions(), NoEnv);
        Assert.Equal("127.0.0.1", settings.Hostname);
        Assert.Equal(4053, settings.Port);
        Assert.Empty(settings.Seeds);
        Assert.Equal("127.0.0.1:5080", $"{settings.Http.Address}:{settings.Http.Port}");
        Assert.Null(settings.Token);
        var config = settings.Hocon;
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.True(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
        Assert.True(config.GetBoolean("akka.cluster.run-coordinated-shutdown-when-down"));
        // Only how often the leader and the reaper look; the safety margins keep Akka's values.
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.leader-actions-interval"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.unreachable-nodes-reaper-interval"));
        Assert.False(config.HasPath("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.False(config.HasPath("akka.cluster.down-removal-margin"));
        Assert.Equal(Akka.Event.LogLevel.WarningLevel, settings.LogLevel);
    }

    [Fact]
    public void Flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults()
    {
        File.WriteAllText(_file, """
            akka.remote.dot-netty.tcp { hostname = "10.1.2.3", port = 4999 }
            akka.cluster.seed-nodes = ["akka.tcp://luaactors@10.1.2.3:4999"]
            luaactors.node.http = "127.0.0.1:6000"
            luaactors.vm.default-timeout = 2s
            akka.loglevel = INFO
            """);

        // The file over the defaults; keys it does not set keep node.conf's values.
        var fromFile = NodeSettings.Resolve(new NodeOptions { ConfigFile = _file }, NoEnv);
        Assert.Equal(("10.1.2.3", 4999), (fromFile.Hostname, fromFile.Port));
        Assert.Equal(["akka.tcp://luaactors@10.1.2.3:4999"], fromFile.Seeds);
        Assert.Equal(6000, fromFile.Http.Port);
        Assert.Equal(TimeSpan.FromSeconds(2), fromFile.Hocon.GetTimeSpan("luaactors.vm.default-timeout"));
        Assert.Equal("keep-majority", fromFile.Hocon.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(Akka.Event.LogLevel.InfoLevel, fromFile.LogLevel);

        // The environment over the file (LUAACTORS_CONFIG names the file when no flag does).
        var environment = Env(
            ("LUAACTORS_CONFIG", _file),
            ("LUAACTORS_HOSTNAME", "node-e.example.org"),
            ("LUAACTORS_PORT", "4100"),
            ("LUAACTORS_SEEDS", "akka.tcp://luaactors@node-e.example.org:4100, akka.tcp://luaactors@node-f.example.org:4100"),
            ("LUAACTORS_HTTP", "127.0.0.1:6100"),
            ("LUAACTORS_TOKEN", "from-env"));
        var fromEnv = NodeSettings.Resolve(new NodeOptions(), environment);
        Assert.Equal(("node-e.example.org", 4100), (fromEnv.Hostname, fromEnv.Port));
        Assert.Equal(2, fromEnv.Seeds.Count);
        Assert.Equal(6100, fromEnv.Http.Port);
        Assert.Equal("from-env", fromEnv.Token);
        Assert.Equal(TimeSpan.FromSeconds(2), fromEnv.Hocon.GetTimeSpan("luaactors.vm.default-timeout"));

        // The flags over the environment.
        var fromFlags = NodeSettings.Resolve(new NodeOptions
        {
            Hostname = "node-b.example.org",
            Port = 0,
            Seeds = ["akka.tcp://luaactors@node-a.example.org:4053"],
            Http = "127.0.0.1:0",
            Token = "from-flag",
        }, environment);
        Assert.Equal(("node-b.example.org", 0), (fromFlags.Hostname, fromFlags.Port));
        Assert.Equal(["akka.tcp://luaactors@node-a.example.org:4053"], fromFlags.Seeds);
        Assert.Equal(0, fromFlags.Http.Port);
        Assert.Equal("from-flag", fromFlags.Token);
    }

    [Fact]
    public void A_config_flag_beats_the_config_variable()
    {
        File.WriteAllText(_file, "akka.remote.dot-netty.tcp.port = 4321");
        var settings = NodeSettings.Resolve(new NodeOptions { ConfigFile = _file }, Env(("LUAACTORS_CONFIG", "/nonexistent/node.conf")));
        Assert.Equal(4321, settings.Port);
    }

    [Fact]
    public void The_test_hocon_lies_over_the_file()
    {
        File.WriteAllText(_file, "luaactors.vm.default-timeout = 2s");
        var settings = NodeSettings.Resolve(new NodeOptions { ConfigFile = _file, Config = "luaactors.vm.default-timeout = 7s" }, NoEnv);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.Hocon.GetTimeSpan("luaactors.vm.default-timeout"));
    }

    [Fact]
    public void The_fast_failover_profile_cuts_the_three_margins_and_keeps_the_rest_of_node_conf()
    {
        var settings = NodeSettings.Resolve(new NodeOptions { ConfigFile = Path.Combine(RepoRoot(), "hocon", "fast-failover.conf") }, NoEnv);
        var config = settings.Hocon;
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.down-removal-margin"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.True(config.GetBoolean("akka.cluster.split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.GetTimeSpan("akka.cluster.leader-actions-interval"));
    }

    [Theory]
    [InlineData("akka.tcp://luaactors@127.0.0.1", "is not a node address")]
    [InlineData("http://127.0.0.1:4053", "is not a node address")]
    [InlineData("akka.tcp://luaactor@127.0.0.1:4053", "names the actor system 'luaactor'")]
    [InlineData("not an address", "is not a node address")]
    public void A_bad_seed_is_refused(string seed, string message)
    {
        Assert.Contains(message, Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions { Seeds = [seed] }, NoEnv)).Message);
        // The same from the environment.
        Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions(), Env(("LUAACTORS_SEEDS", seed))));
    }

    [Theory]
    [InlineData("LUAACTORS_PORT", "http", "LUAACTORS_PORT needs a port number from 0 to 65535 (got 'http')")]
    [InlineData("LUAACTORS_PORT", "70000", "LUAACTORS_PORT needs a port number")]
    [InlineData("LUAACTORS_HTTP", "5080", "is not ADDRESS:PORT")]
    [InlineData("LUAACTORS_HOSTNAME", "0.0.0.0", "is not an address other nodes can reach")]
    [InlineData("LUAACTORS_CONFIG", "/nonexistent/node.conf", "cannot read the config file /nonexistent/node.conf")]
    public void A_bad_variable_is_refused_with_its_name_or_value(string variable, string value, string message) =>
        Assert.Contains(message, Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions(), Env((variable, value)))).Message);

    [Fact]
    public void An_empty_variable_counts_as_unset()
    {
        var settings = NodeSettings.Resolve(new NodeOptions(), Env(("LUAACTORS_PORT", ""), ("LUAACTORS_HOSTNAME", " ")));
        Assert.Equal(("127.0.0.1", 4053), (settings.Hostname, settings.Port));
    }

    [Theory]
    [InlineData("akka { x = ")]
    [InlineData("a = \"unterminated")]
    [InlineData("a = ${nope}")]
    [InlineData("akka.cluster.roles = [a, b\n")]
    public void Invalid_hocon_in_a_config_file_is_refused_with_its_name(string hocon)
    {
        File.WriteAllText(_file, hocon);
        var error = Assert.Throws<NodeOptionsException>(() => NodeSettings.Resolve(new NodeOptions { ConfigFile = _file }, NoEnv));
        Assert.Contains(_file, error.Message);
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

    private static string RepoRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LuaActors.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("LuaActors.sln not found");
        }

        return root;
    }
}
