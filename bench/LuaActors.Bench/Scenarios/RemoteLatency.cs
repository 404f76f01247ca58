using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Execute p50 of a VM on the other node of a 2-node cluster (two actor systems in this
/// process, over loopback TCP) against a VM on the calling node, interleaved call by call.
/// </summary>
internal sealed class RemoteLatency : IScenario
{
    private const string Code = "return 1+1";

    public string Name => "remote-latency";

    public string Description => "execute on a VM on another node vs a local one (2-node cluster)";

    public async Task RunAsync(BenchContext context)
    {
        var samples = context.Size(2_000, 20_000);
        await using var cluster = await BenchCluster.StartAsync(2, context.ClusterConfinementHocon);
        var caller = cluster.Nodes[0];
        var here = BenchCluster.AddressOf(caller);

        // Sharding places VMs by shard; create until there is one on each node.
        string? local = null, remote = null;
        for (var i = 0; i < 64 && (local is null || remote is null); i++)
        {
            var info = (await caller.CreateVmAsync($"lat-{i}")).Id;
            var node = (await caller.GetVmInfoAsync(info)).Node;
            if (node == here)
            {
                local ??= info;
            }
            else
            {
                remote ??= info;
            }
        }

        if (local is null || remote is null)
        {
            throw new InvalidOperationException("no VM landed on one of the two nodes");
        }

        BenchContext.Say($"local VM {local}, remote VM {remote}; warming up...");
        await BenchContext.WarmUpAsync(TimeSpan.FromSeconds(context.Size(1, 3)), 2_000, async () =>
        {
            await caller.ExecuteAsync(local, Code);
            await caller.ExecuteAsync(remote, Code);
        });

        var localTimes = new Samples(samples);
        var remoteTimes = new Samples(samples);
        for (var i = 0; i < samples; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await caller.ExecuteAsync(local, Code);
            localTimes.AddSince(started);
            started = System.Diagnostics.Stopwatch.GetTimestamp();
            await caller.ExecuteAsync(remote, Code);
            remoteTimes.AddSince(started);
        }

        new Table($"remote-latency: sequential '{Code}' from node 1 ({samples} calls each, interleaved, us)", "VM on", "p50", "p90", "p99")
            .Row("the calling node", localTimes.PercentileUs(50), localTimes.PercentileUs(90), localTimes.PercentileUs(99))
            .Row("the other node", remoteTimes.PercentileUs(50), remoteTimes.PercentileUs(90), remoteTimes.PercentileUs(99))
            .Print();

        context.Set("remote_latency_status", "measured");
        context.Set("local_p50_us", localTimes.PercentileUs(50));
        context.Set("local_p99_us", localTimes.PercentileUs(99));
        context.Set("remote_p50_us", remoteTimes.PercentileUs(50));
        context.Set("remote_p99_us", remoteTimes.PercentileUs(99));
        context.Target("remote_execute", "remote execute p50 <= 300 us", "remote_p50_us", 300, atMost: true);
    }
}
