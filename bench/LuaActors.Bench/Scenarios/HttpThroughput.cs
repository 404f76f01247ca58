using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// The service path under load: <c>wrk</c> with 50 connections against a real <c>luaactors node</c>,
/// all on one VM and spread round-robin over eight, next to <c>redis-benchmark</c> with 50
/// connections running <c>EVAL "return 1+1" 0</c>, in the same run, and Kestrel alone (a constant
/// answer) with 50 connections: the most calls/s this HTTP stack gives on this machine. Each run
/// says the server's CPU per call, its VM processes', and how busy the machine's cores were, so a
/// figure can be read as "the cores were full" or "something waited". A missing peer is said and skipped.
/// </summary>
internal sealed class HttpThroughput : IScenario
{
    private const int Connections = 50;
    private const int VmCount = 8;

    public string Name => "http-throughput";

    public string Description => "HTTP execute, 50 connections, 1 VM and 8 VMs (node + wrk) vs Redis EVAL, 50 connections (redis-benchmark)";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Size(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
        var requests = context.Size(100_000, 500_000);
        var peers = PeerSet.Find(context, "http_throughput_status");
        var table = new Table($"http-throughput: 'return 1+1', {Connections} connections", "contender", "calls/s", "p50 µs", "p99 µs",
            "server CPU µs/call", "VM processes CPU µs/call", "machine busy");

        if (peers.Wrk is { } wrk)
        {
            var (pid, http) = await Peers.StartNodeAsync();
            try
            {
                await Peers.CreateVmsAsync(http, VmCount);
                BenchContext.Say("warming up the node...");
                await Peers.WrkAsync(wrk, http, VmCount, Connections, TimeSpan.FromSeconds(context.Size(1, 3)));
                foreach (var (vms, key) in new[] { (1, "http_1vm"), (VmCount, "http_8vm") })
                {
                    BenchContext.Say($"wrk: {duration.TotalSeconds:F0} s, {Connections} connections, {vms} VM(s)...");
                    var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.WrkAsync(wrk, http, vms, Connections, duration));
                    table.Row($"luaactors node, HTTP execute, {vms} VM(s) (wrk)", result.PerSecond, result.P50Us, result.P99Us,
                        cpu.ServerUsPerCall, cpu.ChildrenUsPerCall, cpu.MachineBusy);
                    cpu.Set(context, key);
                    context.Set(key + "_per_s", result.PerSecond);
                    context.Set(key + "_50conn_p50_us", result.P50Us);
                    context.Set(key + "_50conn_p99_us", result.P99Us);
                }
            }
            finally
            {
                Peers.Stop(pid);
            }
        }

        if (peers.Wrk is { } floorWrk)
        {
            var (pid, http) = await Peers.StartKestrelFloorAsync();
            try
            {
                BenchContext.Say("warming up the Kestrel floor...");
                await Peers.WrkAsync(floorWrk, http, 1, Connections, TimeSpan.FromSeconds(context.Size(1, 3)));
                BenchContext.Say($"wrk: {duration.TotalSeconds:F0} s, {Connections} connections, Kestrel floor...");
                var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.WrkAsync(floorWrk, http, 1, Connections, duration));
                table.Row("Kestrel alone, constant answer (wrk)", result.PerSecond, result.P50Us, result.P99Us,
                    cpu.ServerUsPerCall, cpu.ChildrenUsPerCall, cpu.MachineBusy);
                cpu.Set(context, "kestrel_floor_50conn");
                context.Set("kestrel_floor_50conn_per_s", result.PerSecond);
                context.Set("kestrel_floor_50conn_p50_us", result.P50Us);
                context.Set("kestrel_floor_50conn_p99_us", result.P99Us);
            }
            finally
            {
                Peers.Stop(pid);
            }
        }

        if (peers.RedisServer is { } server && peers.RedisBenchmark is { } benchmark)
        {
            var (pid, port) = await Peers.StartRedisAsync(server);
            try
            {
                BenchContext.Say($"redis-benchmark: {requests} EVAL, {Connections} connections...");
                await Peers.RedisEvalAsync(benchmark, port, Connections, requests / 10);
                var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.RedisEvalAsync(benchmark, port, Connections, requests));
                table.Row("redis-server, EVAL (redis-benchmark)", result.PerSecond, result.P50Us, result.P99Us,
                    cpu.ServerUsPerCall, cpu.ChildrenUsPerCall, cpu.MachineBusy);
                cpu.Set(context, "redis_eval_50conn");
                context.Set("redis_eval_per_s", result.PerSecond);
                context.Set("redis_eval_50conn_p50_us", result.P50Us);
                context.Set("redis_eval_50conn_p99_us", result.P99Us);
            }
            finally
            {
                Peers.Stop(pid);
            }
        }

        table.Print();
        context.Set("ratio_http_8vm_to_redis", HttpLatency.Ratio(context, "http_8vm_per_s", "redis_eval_per_s"));
        context.Set("http_8vm_to_1vm", HttpLatency.Ratio(context, "http_8vm_per_s", "http_1vm_per_s"));
        // Whether "HTTP throughput >= Redis" is reachable on this stack at all: Kestrel alone against Redis.
        context.Set("ratio_kestrel_floor_to_redis_per_s", HttpLatency.Ratio(context, "kestrel_floor_50conn_per_s", "redis_eval_per_s"));
        context.Target("http-8vm-vs-redis", "HTTP throughput, 50 connections over 8 VMs >= Redis EVAL's (50 connections)", "ratio_http_8vm_to_redis", 1.0, atMost: false);
        context.Target("http-8vm-vs-1vm", "HTTP throughput, 8 VMs >= 1.5x 1 VM (50 connections)", "http_8vm_to_1vm", 1.5, atMost: false);
    }
}
