using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// 3 nodes, 30 VMs spread over them; one node that holds VMs is lost abruptly (its actor system
/// stops without leaving). Time until every VM answers again through a survivor, with the
/// split-brain settings of hocon/node.conf.
/// </summary>
internal sealed class NodeLoss : IScenario
{
    public string Name => "node-loss";

    public string Description => "3 nodes, 30 VMs, one node lost abruptly: until every VM answers elsewhere";

    public async Task RunAsync(BenchContext context)
    {
        const int Vms = 30;
        await using var cluster = await BenchCluster.StartAsync(3);
        var via = cluster.Nodes[0];
        var ids = Enumerable.Range(1, Vms).Select(i => $"loss-{i}").ToList();
        await Task.WhenAll(ids.Select(id => via.CreateVmAsync(id, new VmOptions { InitScript = "booted = true" })));
        var infos = await Task.WhenAll(ids.Select(id => via.GetVmInfoAsync(id)));
        var victim = cluster.Nodes[1];
        var victimAddress = BenchCluster.AddressOf(victim);
        var onVictim = infos.Count(i => i.Node == victimAddress);
        BenchContext.Say($"{Vms} VMs: {string.Join(", ", infos.GroupBy(i => i.Node).Select(g => $"{g.Count()} on …{g.Key[^5..]}"))}; losing the node with {onVictim}");

        var clock = Stopwatch.StartNew();
        await cluster.CrashAsync(victim);
        var answered = await Task.WhenAll(ids.Select(id => AnswerAgainAsync(via, id, clock)));
        var all = clock.Elapsed;

        var moved = answered.Where((_, i) => infos[i].Node == victimAddress).Select(t => t.TotalSeconds).Order().ToList();
        new Table("node-loss: seconds from losing a node until its VMs answer again through a survivor", "what", "seconds")
            .Row($"first of the {onVictim} VMs of the lost node", moved.Count > 0 ? moved[0] : 0)
            .Row("every VM answering", all.TotalSeconds)
            .Print();

        context.Set("node_loss_status", "measured");
        context.Set("node_loss_s", Math.Round(all.TotalSeconds, 2));
        context.Set("node_loss_vms_moved", onVictim);
        context.Target("node_loss", "a lost node's VMs answering elsewhere <= 10 s", "node_loss_s", 10, atMost: true);
    }

    /// <summary>Calls until the VM answers (typed errors while it moves are expected); returns when it did.</summary>
    private static async Task<TimeSpan> AnswerAgainAsync(VmManager via, string id, Stopwatch clock)
    {
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            try
            {
                await via.ExecuteAsync(id, "return booted", new ExecuteOptions(TimeoutMs: 2_000));
                return clock.Elapsed;
            }
            catch (Exception e) when (e is LuaActorsException or Akka.Actor.AskTimeoutException or TimeoutException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"VM {id} did not answer within 120 s of the node loss");
    }
}
