using Akka.Actor;
using Akka.DistributedData;
using LuaActors.Cluster;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>The replicated VM registry over two real nodes: specs written on one are found, listed and removed from the other.</summary>
public sealed class VmRegistryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Specs_written_on_one_node_are_found_listed_and_removed_from_another()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var writer = new VmRegistry(cluster.Nodes[0].System, Timeout);
        var reader = new VmRegistry(cluster.Nodes[1].System, Timeout);
        var ids = Enumerable.Range(1, 300).Select(n => $"registry-{n}").ToList();

        Assert.All(await Task.WhenAll(ids.Select(id => writer.PutAsync(VmSpec.Basic(id, $"name = '{id}'")))), Assert.True);

        Assert.Equal("name = 'registry-7'", (await reader.FindAsync("registry-7"))?.InitScript);
        Assert.Null(await reader.FindAsync("registry-none"));
        var all = await reader.AllAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), all.Keys.Where(k => k.StartsWith("registry-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal("name = 'registry-300'", all["registry-300"].InitScript);

        Assert.True(await reader.RemoveAsync("registry-7"));
        Assert.Null(await writer.FindAsync("registry-7"));
        Assert.DoesNotContain("registry-7", (await writer.AllAsync()).Keys);
    }

    [Fact]
    public async Task A_spec_is_stored_under_its_own_key_beside_only_the_ids_that_hash_there()
    {
        // One dictionary for all VMs made every create cost O(VMs) in the replicator's merge.
        await using var cluster = await TestCluster.StartAsync(1);
        var system = cluster.Nodes[0].System;
        var registry = new VmRegistry(system, Timeout);
        var ids = Enumerable.Range(1, 300).Select(n => $"layout-{n}").ToList();
        await Task.WhenAll(ids.Select(id => registry.PutAsync(VmSpec.Basic(id))));

        var key = new LWWDictionaryKey<string, VmSpec>(VmRegistryKeys.KeyId("layout-1"));
        var response = await DistributedData.Get(system).Replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), Timeout);
        var held = Assert.IsType<GetSuccess>(response).Get(key).Keys.Where(k => k.StartsWith("layout-", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        var expected = ids.Where(id => VmRegistryKeys.KeyId(id) == key.Id).Order(StringComparer.Ordinal);
        Assert.Equal(expected, held);
        Assert.InRange(held.Count(), 1, 10);
    }
}
