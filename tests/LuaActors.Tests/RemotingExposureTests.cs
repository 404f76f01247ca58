using Akka.Configuration;
using LuaActors.Host;

namespace LuaActors.Tests;

/// <summary>
/// The start-up warning for a cluster port open beyond loopback without TLS. (Decided on the
/// node's config: a test node never binds beyond 127.0.0.0/8.)
/// </summary>
public sealed class RemotingExposureTests
{
    private static string? WarningFor(string remoting) =>
        RemotingExposure.Warning(ConfigurationFactory.ParseString(NodeConfig.Build(new NodeOptions { Config = remoting })));

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
