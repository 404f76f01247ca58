using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>
/// A request in flight to a VM whose node is lost is answered NodeLost by the node it came
/// through, whatever that node saw of the VM before: it asks its shard region where the request went.
/// </summary>
public sealed class NodeLossAnswerTests
{
    [Fact]
    public async Task A_request_through_a_node_that_never_talked_to_the_vm_fails_NodeLost_when_the_vms_node_is_lost()
    {
        await using var cluster = await TestCluster.StartAsync();
        var creator = cluster.Nodes[0];
        // A VM on a node other than the creator's; the request goes through the third node, which
        // has never sent the VM anything nor seen a reply from it.
        var (vmId, home) = await VmAwayFromAsync(creator, cluster);
        var through = cluster.Nodes.Single(n => n != creator && n != home);

        // A long time limit: the ask would wait it out (plus ask-margin) if nobody answered.
        var inFlight = through.ExecuteAsync(vmId, "while true do end", new ExecuteOptions(TimeoutMs: 30_000));
        await Eventually.TrueAsync(async () => (await creator.GetVmInfoAsync(vmId)).PendingRequests > 0,
            TimeSpan.FromSeconds(20), "the request running in the VM");

        await cluster.CrashAsync(home);

        var lost = await Assert.ThrowsAsync<VmCrashedException>(() => inFlight);
        Assert.Equal(ErrorKind.NodeLost, lost.Kind);
    }

    /// <summary>Creates VMs through <paramref name="creator"/> until one lands on another node.</summary>
    private static async Task<(string VmId, VmManager Home)> VmAwayFromAsync(VmManager creator, TestCluster cluster)
    {
        var creatorAddress = TestCluster.AddressOf(creator).ToString();
        for (var i = 0; i < 30; i++)
        {
            var id = ManagerFixture.NewId("away");
            await creator.CreateVmAsync(id);
            var node = (await creator.GetVmInfoAsync(id)).Node;
            if (node != creatorAddress)
            {
                return (id, cluster.Nodes.Single(n => TestCluster.AddressOf(n).ToString() == node));
            }
        }

        throw new InvalidOperationException("every VM landed on the creating node");
    }
}
