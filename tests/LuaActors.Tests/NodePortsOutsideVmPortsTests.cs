using LuaActors.Host;

namespace LuaActors.Tests;

/// <summary>A node refuses to start with its own ports where VMs may listen.</summary>
public sealed class NodePortsOutsideVmPortsTests
{
    [Theory]
    [InlineData(0, "127.0.0.1:25000", "the HTTP API port 25000 lies inside luaactors.vm.networking.listen-ports (20000-29999)")]
    [InlineData(25001, "127.0.0.1:0", "the cluster (remoting) port 25001 lies inside luaactors.vm.networking.listen-ports (20000-29999)")]
    public async Task A_node_whose_http_or_remoting_port_lies_in_listen_ports_refuses_to_start(int port, string http, string expected)
    {
        var error = await Assert.ThrowsAsync<NodeOptionsException>(() =>
            NodeHost.StartAsync(new NodeOptions { Port = port, Http = http }));
        Assert.Contains(expected, error.Message);
    }
}
