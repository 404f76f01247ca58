using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>Three nodes in one process: VMs spread, answer from anywhere, survive leaving and lost nodes.</summary>
public sealed class ShardedVmTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string InitScript = "init_runs = (init_runs or 0) + 1";

    private static async Task<List<string>> CreateVmsAsync(VmManager via, string prefix, int count)
    {
        var ids = Enumerable.Range(1, count).Select(i => $"{prefix}-{i}").ToList();
        await Task.WhenAll(ids.Select(id => via.CreateVmAsync(id, new VmOptions { InitScript = InitScript })));
        return ids;
    }

    [Fact]
    public async Task Vms_spread_over_every_node_and_answer_from_any_node()
    {
        await using var cluster = await TestCluster.StartAsync();
        var ids = await CreateVmsAsync(cluster.Nodes[0], "spread", 12);

        var infos = await TestCluster.InfosAsync(cluster.Nodes[1], ids);
        var nodes = cluster.Nodes.Select(n => TestCluster.AddressOf(n).ToString()).ToHashSet();
        Assert.All(infos.Values, info => Assert.Contains(info.Node, nodes));
        Assert.Equal(nodes, infos.Values.Select(i => i.Node).ToHashSet());
        Assert.All(infos.Values, info => Assert.Equal(VmState.Running, info.State));

        // Every VM answers through every node, keeping its state between calls from different nodes.
        foreach (var id in ids)
        {
            await cluster.Nodes[0].ExecuteAsync(id, $"mark = '{id}'");
            foreach (var node in cluster.Nodes)
            {
                var result = await node.ExecuteAsync(id, "return mark, init_runs");
                Assert.Equal($"[\"{id}\",1]", result.ValuesJson);
            }
        }

        // Sessions work from any node to a VM on another node, and see each other.
        var remoteVm = infos.Values.First(i => i.Node != TestCluster.AddressOf(cluster.Nodes[2]).ToString()).VmId;
        await using var far = await cluster.Nodes[2].AttachAsync(remoteVm);
        await using var near = await cluster.Nodes[0].AttachAsync(remoteVm);
        await far.SendInputAsync("mark .. '!'");
        Assert.Equal($"{remoteVm}!\n", await far.ReadOutputAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal($"[{far.SessionId}] > mark .. '!'\n{remoteVm}!\n", await near.ReadOutputAsync(TimeSpan.FromSeconds(20)));

        // The cluster-wide list, from any node, shows every VM and its node.
        var listed = await cluster.Nodes[2].ListVmsAsync();
        Assert.Equal(ids.Order(), listed.Select(v => v.VmId).Order());
        Assert.All(listed, v => Assert.Equal(infos[v.VmId].Node, v.Node));
    }

    [Fact]
    public async Task Duplicates_unknown_ids_and_removal_work_across_nodes()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.Nodes[0].CreateVmAsync("only-one");
        await Assert.ThrowsAsync<VmAlreadyExistsException>(() => cluster.Nodes[1].CreateVmAsync("only-one"));
        await Assert.ThrowsAsync<VmNotFoundException>(() => cluster.Nodes[2].ExecuteAsync("never-created", "return 1"));
        await Assert.ThrowsAsync<InvalidVmSpecException>(() =>
            cluster.Nodes[2].CreateVmAsync("bad-type", new VmOptions { Type = "nope" }));
        // A refused spec leaves nothing behind: the id is free.
        Assert.DoesNotContain(await cluster.Nodes[0].ListVmsAsync(), v => v.VmId == "bad-type");

        var pid = (await cluster.Nodes[2].GetVmInfoAsync("only-one")).ProcessId!.Value;
        await cluster.Nodes[2].RemoveVmAsync("only-one");
        await LuaProcesses.AssertGoneAsync([pid]);
        await Assert.ThrowsAsync<VmNotFoundException>(() => cluster.Nodes[0].ExecuteAsync("only-one", "return 1"));
        Assert.DoesNotContain(await cluster.Nodes[1].ListVmsAsync(), v => v.VmId == "only-one");
        await cluster.Nodes[1].CreateVmAsync("only-one");
        Assert.Equal(2, await cluster.Nodes[0].ExecuteAsync<long>("only-one", "return 1 + 1"));
    }

    [Fact]
    public async Task A_node_that_leaves_hands_its_vms_over()
    {
        await using var cluster = await TestCluster.StartAsync();
        var ids = await CreateVmsAsync(cluster.Nodes[0], "leave", 9);
        await Task.WhenAll(ids.Select(id => cluster.Nodes[0].ExecuteAsync(id, "state = 'before'")));
        var leaving = cluster.Nodes[2];
        var leavingAddress = TestCluster.AddressOf(leaving).ToString();
        var before = await TestCluster.InfosAsync(cluster.Nodes[0], ids);
        var moved = before.Values.Where(i => i.Node == leavingAddress).ToList();
        Assert.NotEmpty(moved);

        // What the actor holds for messaging moves with the VM: its inbox, its peers, its topics.
        var stay = before.Values.First(i => i.Node != leavingAddress).VmId;
        foreach (var info in moved)
        {
            await cluster.Nodes[0].SendAsync(info.VmId, "first");
            await cluster.Nodes[0].SendAsync(info.VmId, "second");
            await cluster.Nodes[0].LinkAsync(info.VmId, stay);
            await cluster.Nodes[0].SubscribeAsync(info.VmId, "moving-news");
        }

        // Requests sent while the node leaves are delivered: drained by the old VM, or buffered
        // by sharding during the hand-over and answered by the new one.
        var leave = cluster.LeaveAsync(leaving);
        var during = moved.SelectMany(info => Enumerable.Range(0, 5).Select(i => cluster.Nodes[0].ExecuteAsync<long>(info.VmId, $"return {i}"))).ToList();
        await leave;
        Assert.Equal(moved.Count * 10, (await Task.WhenAll(during)).Sum());
        await LuaProcesses.AssertGoneAsync(moved.Select(i => i.ProcessId!.Value));

        foreach (var info in moved)
        {
            // In-VM state is lost in a hand-over; the init script ran again on the new node.
            var result = await TestCluster.EventuallyAsync(
                () => cluster.Nodes[0].ExecuteAsync(info.VmId, "return state, init_runs"), TimeSpan.FromSeconds(60));
            Assert.Equal("[null,1]", result.ValuesJson);
            var after = await cluster.Nodes[1].GetVmInfoAsync(info.VmId);
            Assert.NotEqual(leavingAddress, after.Node);
            Assert.Equal([stay], after.Peers);
            Assert.Equal(["moving-news"], after.Topics);
            Assert.Equal("[\"first\",\"second\"]", (await cluster.Nodes[0].ExecuteAsync(info.VmId, "return (vm.receive(5)), (vm.receive(5))")).ValuesJson);
        }

        // VMs on the other nodes were not touched.
        foreach (var info in before.Values.Where(i => i.Node != leavingAddress))
        {
            Assert.Equal("[\"before\",1]", (await cluster.Nodes[1].ExecuteAsync(info.VmId, "return state, init_runs")).ValuesJson);
        }
    }

    [Fact]
    public async Task Vms_of_a_lost_node_come_back_on_the_survivors_and_removed_ones_stay_removed()
    {
        await using var cluster = await TestCluster.StartAsync();
        var ids = await CreateVmsAsync(cluster.Nodes[0], "lost", 9);
        await cluster.Nodes[0].RemoveVmAsync("lost-9");
        ids.Remove("lost-9");

        var lost = cluster.Nodes[1];
        var lostAddress = TestCluster.AddressOf(lost).ToString();
        var before = await TestCluster.InfosAsync(cluster.Nodes[0], ids);
        var victims = before.Values.Where(i => i.Node == lostAddress).ToList();
        Assert.NotEmpty(victims);

        // A request in flight on a VM of the lost node fails with a typed error, not a hang.
        var inFlight = cluster.Nodes[0].ExecuteAsync(victims[0].VmId, "while true do end", new ExecuteOptions(TimeoutMs: 600_000));
        await TestCluster.WaitUntilAsync(
            () => cluster.Nodes[0].GetVmInfoAsync(victims[0].VmId).Result.PendingRequests > 0, TimeSpan.FromSeconds(10), "request not in flight");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await cluster.CrashAsync(lost);
        var nodeLost = await Assert.ThrowsAsync<VmCrashedException>(() => inFlight);
        Assert.Equal(ErrorKind.NodeLost, nodeLost.Kind);
        await LuaProcesses.AssertGoneAsync(victims.Select(i => i.ProcessId!.Value));

        // Nobody re-creates them: sharding restarts the remembered entities from their specs.
        foreach (var id in ids)
        {
            var result = await TestCluster.EventuallyAsync(
                () => cluster.Nodes[0].ExecuteAsync(id, "return init_runs"), TimeSpan.FromSeconds(90));
            Assert.Equal("[1]", result.ValuesJson);
        }

        output.WriteLine($"every VM answered again {clock.Elapsed.TotalSeconds:F1} s after the node was lost");
        var after = await cluster.Nodes[1].ListVmsAsync();
        Assert.Equal(ids.Order(), after.Select(v => v.VmId).Order());
        Assert.DoesNotContain(after, v => v.Node == lostAddress);
        await Assert.ThrowsAsync<VmNotFoundException>(() => cluster.Nodes[1].ExecuteAsync("lost-9", "return 1"));
    }

    [Fact]
    public async Task No_process_outlives_the_cluster()
    {
        var cluster = await TestCluster.StartAsync();
        var ids = await CreateVmsAsync(cluster.Nodes[0], "leak", 6);
        var pids = (await TestCluster.InfosAsync(cluster.Nodes[0], ids)).Values.Select(i => i.ProcessId!.Value).ToList();
        await cluster.DisposeAsync();
        await LuaProcesses.AssertGoneAsync(pids);
    }
}
