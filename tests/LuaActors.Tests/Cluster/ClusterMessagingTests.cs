using LuaActors.Api;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>Messages, topics and peers between VMs on different nodes of a three-node cluster.</summary>
public sealed class ClusterMessagingTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Messages_topics_and_broadcasts_cross_nodes()
    {
        await using var cluster = await TestCluster.StartAsync();
        var ids = Enumerable.Range(1, 9).Select(i => $"msg-{i}").ToList();
        await Task.WhenAll(ids.Select(id => cluster.Nodes[0].CreateVmAsync(id)));
        var infos = await TestCluster.InfosAsync(cluster.Nodes[0], ids);
        var byNode = infos.Values.GroupBy(i => i.Node).Select(g => g.First().VmId).ToList();
        Assert.True(byNode.Count >= 2, "the VMs spread over at least two nodes");
        var (a, b) = (byNode[0], byNode[1]);

        // A direct message from a VM on one node to a VM on another, with its sender.
        var receiving = cluster.Nodes[2].ExecuteAsync(b, "return vm.receive(20)");
        await cluster.Nodes[1].ExecuteAsync(a, $"vm.send('{b}', {{ 1, 2.5, 'x' }})");
        Assert.Equal($"[[1,2.5,\"x\"],\"{a}\",null]", (await receiving).ValuesJson);

        // From C# on any node into a VM on another; unknown targets fail at the sender.
        await cluster.Nodes[2].SendAsync(a, "from-csharp");
        Assert.Equal("[\"from-csharp\"]", (await cluster.Nodes[1].ExecuteAsync(a, "return (vm.receive(10))")).ValuesJson);
        var unknown = await Assert.ThrowsAsync<LuaException>(() => cluster.Nodes[0].ExecuteAsync(a, "vm.send('nobody-anywhere', 1)"));
        Assert.Contains("unknown target 'nobody-anywhere'", unknown.Message);

        // Topics span the nodes (subscriptions spread by gossip: publish until it arrives).
        var subscribers = byNode;
        foreach (var subscriber in subscribers)
        {
            await cluster.Nodes[0].ExecuteAsync(subscriber, "vm.subscribe('weather')");
        }

        var publisher = ids.First(id => !subscribers.Contains(id));
        foreach (var subscriber in subscribers)
        {
            var got = await TestCluster.EventuallyAsync(async () =>
            {
                await cluster.Nodes[1].ExecuteAsync(publisher, "vm.publish('weather', 'rain')");
                var result = await cluster.Nodes[2].ExecuteAsync(subscriber, "return vm.receive(1)");
                return result.ValuesJson == "[null]" ? throw new InvalidOperationException("not yet") : result;
            }, Within);
            Assert.Equal($"[\"rain\",\"{publisher}\",\"weather\"]", got.ValuesJson);
        }

        // Linked peers on different nodes reach each other with broadcast.
        await cluster.Nodes[2].LinkAsync(a, b);
        Assert.Equal("[1]", (await cluster.Nodes[0].ExecuteAsync(a, "return vm.broadcast('hello peer')")).ValuesJson);
        var drained = await cluster.Nodes[0].ExecuteAsync(b, """
            while true do
              local v, from = vm.receive(10)
              if v == nil or v == 'hello peer' then return v, from end
            end
            """);
        Assert.Equal($"[\"hello peer\",\"{a}\"]", drained.ValuesJson);
    }
}
