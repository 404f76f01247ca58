using LuaActors.Api;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>The listener registry is the cluster's: a VM reaches a listener a VM on another node opened, and no longer once it closed.</summary>
public sealed class ClusterNetworkRuleTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_vm_reaches_a_listener_a_vm_on_another_node_opened_at_once()
    {
        await using var cluster = await TestCluster.StartAsync();
        var ids = Enumerable.Range(1, 6).Select(i => $"net-{i}").ToList();
        await Task.WhenAll(ids.Select(id => cluster.Nodes[0].CreateVmAsync(id, new VmOptions { Networking = true })));
        var infos = await TestCluster.InfosAsync(cluster.Nodes[0], ids);
        var byNode = infos.Values.GroupBy(i => i.Node).Select(g => g.First().VmId).ToList();
        Assert.True(byNode.Count >= 2, "the VMs spread over at least two nodes");
        var (server, client) = (byNode[0], byNode[1]);
        string Connect(int port) => $"local c, e = socket.connect('127.0.0.1', {port}) if c then c:close() return 'connected' end return e";

        // No waiting for gossip: the registry write reached a majority before StartServerAsync returned.
        var port = await cluster.Nodes[1].StartServerAsync(server, 0);
        Assert.Equal("connected", await cluster.Nodes[2].ExecuteAsync<string>(client, Connect(port)));

        Assert.True(await cluster.Nodes[2].StopServerAsync(server, port));
        await Eventually.TrueAsync(async () => (await cluster.Nodes[0].ExecuteAsync<string>(client, Connect(port)))!.StartsWith("connection not allowed", StringComparison.Ordinal),
            Within, "the closed listener left the registry on every node");

        // A node that dies takes its VM processes along: once it is removed from the cluster,
        // its listeners leave the registry (whatever its last words reached).
        port = await cluster.Nodes[1].StartServerAsync(server, 0);
        var serverNode = cluster.Nodes.Single(n => TestCluster.AddressOf(n).ToString() == infos[server].Node);
        var clientNode = cluster.Nodes.First(n => n != serverNode);
        Assert.Equal("connected", await clientNode.ExecuteAsync<string>(client, Connect(port)));
        // An entry the node never got to remove (as if its removal was lost with it): nothing listens there.
        var registry = Networking.VmListeners.Get(serverNode.System);
        await registry.AddAsync(new Networking.VmListener("ghost", registry.Node, registry.Host, System.Net.IPAddress.Loopback, port + 1));
        Assert.Equal("connection refused", await clientNode.ExecuteAsync<string>(client, Connect(port + 1)));
        await cluster.CrashAsync(serverNode);
        await Eventually.TrueAsync(async () => (await clientNode.ExecuteAsync<string>(client, Connect(port + 1)))!.StartsWith("connection not allowed", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "the listeners of the removed node left the registry");
    }
}
