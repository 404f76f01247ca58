using LuaActors.Host;

namespace LuaActors.Tests;

/// <summary>
/// The start-up warning for a cluster port open beyond loopback without TLS. (Decided on the
/// node's config: a test node never binds beyond 127.0.0.0/8.)
/// </summary>
public sealed class RemotingExposureTests
{
    private static string? WarningFor(string remoting) =>
        RemotingExposure.Warning(NodeSettings.Resolve(new NodeOptions { Config = remoting }, _ => null));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("localhost")]
    [InlineData("::1")]
    public void Loopback_needs_no_warning(string hostname) =>
        Assert.Null(WarningFor($"akka.remote.dot-netty.tcp.hostname = \"{hostname}\""));

    [Fact]
    public void The_default_node_is_loopback() => Assert.Null(WarningFor(""));

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.0.10")]
    [InlineData("node-1.cluster.invalid")]
    [InlineData("")]
    public void A_port_beyond_loopback_without_tls_is_warned_about(string hostname)
    {
        var warning = WarningFor($"akka.remote.dot-netty.tcp {{ hostname = \"{hostname}\", port = 4053 }}");
        Assert.NotNull(warning);
        Assert.StartsWith("WARNING", warning);
        Assert.Contains(":4053", warning);
        Assert.Contains("enable-ssl", warning);
        Assert.Contains("private network", warning);
    }

    [Fact]
    public void A_loopback_name_bound_to_every_address_is_warned_about()
    {
        var warning = WarningFor("akka.remote.dot-netty.tcp { hostname = \"127.0.0.1\", bind-hostname = \"0.0.0.0\", port = 4053 }");
        Assert.NotNull(warning);
        Assert.Contains("0.0.0.0:4053", warning);
    }

    [Fact]
    public async Task A_node_whose_cluster_port_listens_on_every_address_warns_at_start()
    {
        // Bound to 0.0.0.0 but gossiping on 127.0.0.1: nothing is sent beyond loopback.
        var errors = new StringWriter();
        await using var node = await NodeHost.StartAsync(new NodeOptions
        {
            Port = 0, Http = "127.0.0.1:0", Errors = errors,
            Config = Support.TestConfig.Hocon + "\nakka.remote.dot-netty.tcp.bind-hostname = \"0.0.0.0\"",
        });
        Assert.StartsWith("WARNING: the cluster port (0.0.0.0:", errors.ToString());
    }

    [Fact]
    public void Tls_silences_it() =>
        Assert.Null(WarningFor("akka.remote.dot-netty.tcp { hostname = \"10.1.2.3\", enable-ssl = on }"));

    [Fact]
    public async Task A_node_on_loopback_prints_no_warning()
    {
        var errors = new StringWriter();
        await using var node = await NodeHost.StartAsync(new NodeOptions
        {
            Port = 0, Http = "127.0.0.1:0", Config = Support.TestConfig.Hocon, Errors = errors,
        });
        Assert.Equal("", errors.ToString());
    }
}
