using System.CommandLine;
using LuaActors.Host;

namespace LuaActors.UnitTests;

/// <summary>
/// `luaactors node --discovery`: how the discovery settings resolve (flag over LUAACTORS_* over the
/// config file over hocon/node.conf) and the combinations refused before anything starts.
/// </summary>
public sealed class DiscoverySettingsTests
{
    private const string Three = "127.0.0.1:8558,127.0.0.1:8559,127.0.0.1:8560";

    private static readonly Func<string, string?> NoEnv = _ => null;

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static NodeSettings Resolve(DiscoveryOptions discovery, Func<string, string?>? env = null, IReadOnlyList<string>? seeds = null, string? config = null) =>
        NodeSettings.Resolve(new NodeOptions { Discovery = discovery, Seeds = seeds ?? [], Config = config }, env ?? NoEnv);

    private static string Refused(DiscoveryOptions discovery, Func<string, string?>? env = null, IReadOnlyList<string>? seeds = null, string? config = null) =>
        Assert.Throws<NodeOptionsException>(() => Resolve(discovery, env, seeds, config)).Message;

    [Fact]
    public void The_default_is_static_seeds_without_a_management_endpoint()
    {
        var settings = Resolve(new DiscoveryOptions());
        Assert.Equal(DiscoveryMethod.None, settings.Discovery.Method);
        Assert.Same(DiscoverySettings.None, settings.Discovery);
    }

    [Fact]
    public void Config_discovery_takes_the_endpoints_and_needs_three_of_them_by_default()
    {
        var discovery = Resolve(new DiscoveryOptions { Method = "config", Endpoints = [Three] }).Discovery;
        Assert.Equal(DiscoveryMethod.Config, discovery.Method);
        Assert.Equal(["127.0.0.1:8558", "127.0.0.1:8559", "127.0.0.1:8560"], discovery.Endpoints);
        Assert.Equal((8558, 3, "luaactors"), (discovery.ManagementPort, discovery.RequiredContactPoints, discovery.Service));
    }

    [Fact]
    public void Fewer_endpoints_lower_the_default_and_the_flag_sets_it()
    {
        Assert.Equal(1, Resolve(new DiscoveryOptions { Method = "config", Endpoints = ["127.0.0.1:8558"] }).Discovery.RequiredContactPoints);
        Assert.Equal(2, Resolve(new DiscoveryOptions { Method = "config", Endpoints = [Three], RequiredContactPoints = 2 }).Discovery.RequiredContactPoints);
        Assert.Equal(3, Resolve(new DiscoveryOptions { Method = "kubernetes" }).Discovery.RequiredContactPoints);
    }

    [Fact]
    public void The_variables_stand_in_for_the_flags_and_the_flags_win()
    {
        var env = Env(("LUAACTORS_DISCOVERY", "config"), ("LUAACTORS_DISCOVERY_ENDPOINTS", "127.0.0.1:9001, 127.0.0.1:9002"),
            ("LUAACTORS_MANAGEMENT_PORT", "9001"), ("LUAACTORS_DISCOVERY_SERVICE", "lua"), ("LUAACTORS_REQUIRED_CONTACT_POINTS", "2"));
        var fromEnv = Resolve(new DiscoveryOptions(), env).Discovery;
        Assert.Equal((DiscoveryMethod.Config, 9001, 2, "lua"), (fromEnv.Method, fromEnv.ManagementPort, fromEnv.RequiredContactPoints, fromEnv.Service));
        Assert.Equal(["127.0.0.1:9001", "127.0.0.1:9002"], fromEnv.Endpoints);

        var fromFlags = Resolve(new DiscoveryOptions { ManagementPort = 9002, RequiredContactPoints = 1, Service = "other" }, env).Discovery;
        Assert.Equal((9002, 1, "other"), (fromFlags.ManagementPort, fromFlags.RequiredContactPoints, fromFlags.Service));
    }

    [Fact]
    public void The_config_file_sets_discovery_under_the_environment()
    {
        const string Hocon = """
            luaactors.node.discovery { method = config, endpoints = ["127.0.0.1:7001", "127.0.0.1:7002"], management-port = 7001 }
            """;
        var discovery = Resolve(new DiscoveryOptions(), config: Hocon).Discovery;
        Assert.Equal((DiscoveryMethod.Config, 7001, 2), (discovery.Method, discovery.ManagementPort, discovery.RequiredContactPoints));
        Assert.Equal(DiscoveryMethod.None, Resolve(new DiscoveryOptions(), Env(("LUAACTORS_DISCOVERY", "none")), config: Hocon).Discovery.Method);
    }

    [Theory]
    [InlineData("--seed")]
    [InlineData("LUAACTORS_SEEDS")]
    [InlineData("akka.cluster.seed-nodes")]
    public void Discovery_with_static_seeds_is_refused_naming_where_the_seeds_came_from(string source)
    {
        const string Seed = "akka.tcp://luaactors@127.0.0.1:4053";
        var message = Refused(new DiscoveryOptions { Method = "config", Endpoints = [Three] },
            source == "LUAACTORS_SEEDS" ? Env(("LUAACTORS_SEEDS", Seed)) : null,
            source == "--seed" ? [Seed] : null,
            source == "akka.cluster.seed-nodes" ? $"akka.cluster.seed-nodes = [\"{Seed}\"]" : null);
        Assert.Contains("--discovery config finds the seeds itself", message);
        Assert.Contains($"({source})", message);
    }

    [Theory]
    [InlineData("--discovery config needs --discovery-endpoints", "config", null, null, null, null)]
    [InlineData("does not list this node's own endpoint 127.0.0.1:8558", "config", "127.0.0.1:9000,127.0.0.1:9001", null, null, null)]
    [InlineData("'node1' is not HOST:PORT", "config", "node1,127.0.0.1:8558", null, null, null)]
    [InlineData("'127.0.0.1:0' is not HOST:PORT", "config", "127.0.0.1:0,127.0.0.1:8558", null, null, null)]
    [InlineData("--required-contact-points 3 is more than the 2 endpoints", "config", "127.0.0.1:8558,127.0.0.1:8559", null, 3, null)]
    [InlineData("--management-port must be a port from 1 to 65535", "config", "127.0.0.1:0", 0, null, null)]
    [InlineData("--discovery-endpoints is for --discovery config", "kubernetes", "127.0.0.1:8558", null, null, null)]
    [InlineData("--discovery-endpoints needs --discovery config or kubernetes", null, "127.0.0.1:8558", null, null, null)]
    [InlineData("--management-port needs --discovery config or kubernetes", "none", null, 8558, null, null)]
    [InlineData("--discovery must be none, config or kubernetes (got 'dns')", "dns", null, null, null, null)]
    [InlineData("--discovery-service needs a name", "kubernetes", null, null, null, " ")]
    public void A_combination_that_cannot_work_is_refused_naming_the_flag(
        string message, string? method, string? endpoints, int? port, int? required, string? service) =>
        Assert.Contains(message, Refused(new DiscoveryOptions
        {
            Method = method, Endpoints = endpoints is null ? [] : [endpoints], ManagementPort = port, RequiredContactPoints = required, Service = service,
        }));

    [Theory]
    [InlineData("LUAACTORS_DISCOVERY", "static", "LUAACTORS_DISCOVERY must be none, config or kubernetes (got 'static')")]
    [InlineData("LUAACTORS_MANAGEMENT_PORT", "http", "LUAACTORS_MANAGEMENT_PORT needs a port number")]
    [InlineData("LUAACTORS_REQUIRED_CONTACT_POINTS", "0", "--required-contact-points needs a number of nodes, 1 or more (got '0')")]
    public void A_bad_variable_is_refused_with_its_name(string variable, string value, string message) =>
        Assert.Contains(message, Refused(new DiscoveryOptions { Method = variable == "LUAACTORS_DISCOVERY" ? null : "kubernetes" }, Env((variable, value))));

    [Fact]
    public void The_management_port_must_differ_from_the_nodes_other_ports()
    {
        var settings = NodeSettings.Resolve(new NodeOptions
        {
            Port = 8558,
            Discovery = new DiscoveryOptions { Method = "config", Endpoints = [Three] },
        }, NoEnv);
        Assert.Contains("--management-port 8558 is the node's HTTP API or cluster port",
            Assert.Throws<NodeOptionsException>(() => ListenPortsCheck.Validate(settings)).Message);
    }

    [Fact]
    public async Task A_refused_combination_exits_2_before_the_node_starts()
    {
        var options = new NodeOptions { Seeds = ["akka.tcp://luaactors@127.0.0.1:4053"], Discovery = new DiscoveryOptions { Method = "kubernetes" } };
        Assert.Equal(2, await NodeCommandLine.RunAsync(options, NoEnv));
    }

    [Fact]
    public void The_flags_reach_the_node_options()
    {
        var result = new RootCommand("luaactors") { NodeCommandLine.Create() }.Parse(["node", "--discovery", "config",
            "--discovery-service", "lua", "--discovery-endpoints", "a:1,b:2", "--discovery-endpoints", "c:3",
            "--management-port", "9000", "--required-contact-points", "2"]);
        Assert.Empty(result.Errors);
        var discovery = NodeCommandLine.OptionsOf(result).Discovery;
        Assert.Equal(("config", "lua", 9000, 2), (discovery.Method, discovery.Service, discovery.ManagementPort, discovery.RequiredContactPoints));
        Assert.Equal(["a:1,b:2", "c:3"], discovery.Endpoints);
    }

    [Theory]
    [InlineData("--discovery", "dns")]
    [InlineData("--management-port", "x")]
    [InlineData("--required-contact-points", "0")]
    public void A_bad_flag_value_is_a_parse_error_naming_the_flag(string flag, string value)
    {
        var error = Assert.Single(new RootCommand("luaactors") { NodeCommandLine.Create() }.Parse(["node", flag, value]).Errors);
        Assert.Contains(flag == "--discovery" ? "dns" : flag, error.Message);
    }
}
