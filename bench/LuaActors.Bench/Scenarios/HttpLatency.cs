using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// The service path, one request at a time: a real <c>luaactors node</c> driven by <c>wrk</c> (one
/// connection, one VM) next to <c>redis-server</c> driven by <c>redis-benchmark</c> (one
/// connection, <c>EVAL "return 1+1" 0</c>), and Kestrel alone answering a constant (the HTTP
/// floor, <see cref="Peers.StartKestrelFloorAsync"/>), in the same run. A missing peer is said and skipped.
/// </summary>
internal sealed class HttpLatency : IScenario
{
    public string Name => "http-latency";

    public string Description => "HTTP execute of 'return 1+1' (node + wrk, 1 connection) vs Kestrel alone and Redis EVAL (redis-benchmark, 1 connection)";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Size(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        var requests = context.Size(20_000, 200_000);
        var peers = PeerSet.Find(context, "http_latency_status");
        var table = new Table("http-latency: 'return 1+1', one connection (µs)", "contender", "p50", "p99", "calls/s",
            "server CPU µs/call", "VM processes CPU µs/call");

        if (peers.Wrk is { } wrk)
        {
            var (pid, http) = await Peers.StartNodeAsync();
            try
            {
                await Peers.CreateVmsAsync(http, 1);
                BenchContext.Say("warming up the node...");
                await Peers.WrkAsync(wrk, http, 1, 1, TimeSpan.FromSeconds(1));
                BenchContext.Say($"wrk: {duration.TotalSeconds:F0} s, 1 connection, 1 VM...");
                var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.WrkAsync(wrk, http, 1, 1, duration));
                table.Row("luaactors node, HTTP execute (wrk)", result.P50Us, result.P99Us, result.PerSecond, cpu.ServerUsPerCall, cpu.ChildrenUsPerCall);
                cpu.Set(context, "http_1conn");
                context.Set("http_p50_us", result.P50Us);
                context.Set("http_p99_us", result.P99Us);
                context.Set("http_1vm_1conn_per_s", result.PerSecond);
            }
            finally
            {
                Peers.Stop(pid);
            }
        }

        if (peers.Wrk is { } floorWrk)
        {
            // The same wrk run against Kestrel alone (a constant answer): how much of the node's
            // p50 is .NET's HTTP server itself.
            var (pid, http) = await Peers.StartKestrelFloorAsync();
            try
            {
                BenchContext.Say("warming up the Kestrel floor...");
                await Peers.WrkAsync(floorWrk, http, 1, 1, TimeSpan.FromSeconds(1));
                BenchContext.Say($"wrk: {duration.TotalSeconds:F0} s, 1 connection, Kestrel floor...");
                var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.WrkAsync(floorWrk, http, 1, 1, duration));
                table.Row("Kestrel alone, constant answer (wrk)", result.P50Us, result.P99Us, result.PerSecond, cpu.ServerUsPerCall, cpu.ChildrenUsPerCall);
                cpu.Set(context, "kestrel_floor_1conn");
                context.Set("kestrel_floor_p50_us", result.P50Us);
                context.Set("kestrel_floor_p99_us", result.P99Us);
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
                BenchContext.Say($"redis-benchmark: {requests} EVAL, 1 connection...");
                await Peers.RedisEvalAsync(benchmark, port, 1, requests / 10);
                var (result, cpu) = await LoadCpu.MeasureAsync(pid, () => Peers.RedisEvalAsync(benchmark, port, 1, requests));
                table.Row("redis-server, EVAL (redis-benchmark)", result.P50Us, result.P99Us, result.PerSecond, cpu.ServerUsPerCall, cpu.ChildrenUsPerCall);
                cpu.Set(context, "redis_eval_1conn");
                context.Set("redis_eval_p50_us", result.P50Us);
                context.Set("redis_eval_p99_us", result.P99Us);
                context.Set("redis_eval_1conn_per_s", result.PerSecond);
            }
            finally
            {
                Peers.Stop(pid);
            }
        }

        table.Print();
        context.Set("ratio_http_to_redis_p50", Ratio(context, "http_p50_us", "redis_eval_p50_us"));
        // Whether "HTTP p50 <= 2x Redis" is reachable on this stack at all: Kestrel alone against Redis.
        context.Set("ratio_kestrel_floor_to_redis_p50", Ratio(context, "kestrel_floor_p50_us", "redis_eval_p50_us"));
        context.Set("ratio_http_to_kestrel_floor_p50", Ratio(context, "http_p50_us", "kestrel_floor_p50_us"));
        context.Target("http-p50-vs-redis", "HTTP execute p50 <= 2x Redis EVAL p50 (1 connection)", "ratio_http_to_redis_p50", 2.0, atMost: true);
    }

    /// <summary>a / b, or null when either figure is missing.</summary>
    public static double? Ratio(BenchContext context, string a, string b) =>
        context.Results.Get(a) is double x && context.Results.Get(b) is double y && y > 0 ? x / y : null;
}
