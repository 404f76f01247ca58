using System.Diagnostics;
using System.Text;
using LuaActors.Bench.Shared;
using LuaActors.Protocol;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Sequential <c>return 1+1</c>, one request at a time: (a) the embedding API on a local VM,
/// (b) the floor — the same host protocol over one process's pipes, no actors — and (c) a new
/// <c>lua5.4 -e</c> process per call. (a) and (b) alternate in rounds of equal size so machine
/// noise hits both alike; (c) runs a slice of its samples in every round too.
/// </summary>
internal sealed partial class ExecLatency : IScenario
{
    private const string Code = "return 1+1";
    private const int RoundSize = 500;

    public string Name => "exec-latency";

    public string Description => "sequential 'return 1+1': actors vs the bare pipe protocol vs a process per call";

    public async Task RunAsync(BenchContext context)
    {
        var samples = context.Size(2_000, 20_000);
        var rounds = samples / RoundSize;
        var spawnPerRound = context.Size(50, 50);

        await using var manager = await context.StartManagerAsync();
        var vm = await manager.CreateVmAsync("latency");
        using var floor = HostProcess.Start();

        // Both paths must give the same answer before any timing.
        var viaActors = await vm.ExecuteAsync(Code);
        if (viaActors.ValuesJson != "[2]")
        {
            throw new InvalidOperationException("actors path returned " + viaActors.ValuesJson);
        }

        if (floor.Execute(Code) != (byte)FrameOp.Result || !Encoding.ASCII.GetString(floor.Payload).EndsWith("[2]", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("floor returned " + Encoding.UTF8.GetString(floor.Payload));
        }

        if (SpawnPerCall() != "2")
        {
            throw new InvalidOperationException("lua5.4 -e did not print 2");
        }

        // Warm-up: JIT (tiered compilation promotes hot methods after ~30 calls plus a 100 ms
        // delay, in the background), thread-pool size, the actor path's first-use allocations.
        var warmUp = context.Size(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        var warmUpCalls = context.Size(3_000, 10_000);
        BenchContext.Say($"warming up ({warmUp.TotalSeconds:F0} s)...");
        await BenchContext.WarmUpAsync(warmUp, warmUpCalls, async () =>
        {
            await vm.ExecuteAsync(Code);
            floor.Execute(Code);
        });
        for (var i = 0; i < 20; i++)
        {
            SpawnPerCall();
        }

        var actors = new Samples(samples);
        var bare = new Samples(samples);
        var spawn = new Samples(rounds * spawnPerRound);
        BenchContext.Say($"measuring: {rounds} rounds of {RoundSize} calls per contender, {spawnPerRound} process spawns per round...");
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which contender goes first.
            if (round % 2 == 0)
            {
                await MeasureActorsAsync(vm, actors);
                MeasureFloor(floor, bare);
            }
            else
            {
                MeasureFloor(floor, bare);
                await MeasureActorsAsync(vm, actors);
            }

            for (var i = 0; i < spawnPerRound; i++)
            {
                var started = Stopwatch.GetTimestamp();
                SpawnPerCall();
                spawn.AddSince(started);
            }
        }

        var actorsP50 = actors.PercentileUs(50);
        var floorP50 = bare.PercentileUs(50);
        var spawnP50 = spawn.PercentileUs(50);
        new Table("exec-latency: one 'return 1+1' at a time (µs)", "contender", "samples", "p50", "p90", "p99", "p99.9", "mean")
            .Row("(a) actors: VmManager.ExecuteAsync", actors.Count, actorsP50, actors.PercentileUs(90), actors.PercentileUs(99), actors.PercentileUs(99.9), actors.MeanUs())
            .Row("(b) floor: host protocol on raw pipes", bare.Count, floorP50, bare.PercentileUs(90), bare.PercentileUs(99), bare.PercentileUs(99.9), bare.MeanUs())
            .Row("(c) a new lua5.4 -e per call", spawn.Count, spawnP50, spawn.PercentileUs(90), spawn.PercentileUs(99), spawn.PercentileUs(99.9), spawn.MeanUs())
            .Print();
        BenchContext.Say($"actors / floor (p50):          {actorsP50 / floorP50:F2}x   (target <= 1.5x)");
        BenchContext.Say($"process per call / actors (p50): {spawnP50 / actorsP50:F1}x   (target >= 40x)");

        context.Set("actors_p50_us", actorsP50);
        context.Set("actors_p99_us", actors.PercentileUs(99));
        context.Set("floor_p50_us", floorP50);
        context.Set("floor_p99_us", bare.PercentileUs(99));
        context.Set("spawn_per_call_p50_us", spawnP50);
        context.Set("spawn_per_call_p99_us", spawn.PercentileUs(99));
        context.Set("ratio_actors_to_floor", actorsP50 / floorP50);
        context.Set("ratio_spawn_to_actors", spawnP50 / actorsP50);
        context.Set("exec_latency_samples", actors.Count);
        context.Set("exec_latency_spawn_samples", spawn.Count);
        context.Target("execute_p50_vs_floor", "execute p50 within 1.5x of the floor", "ratio_actors_to_floor", 1.5, atMost: true);
        context.Target("execute_vs_process_per_call", ">= 40x faster than a process per call", "ratio_spawn_to_actors", 40, atMost: false);
        if (context.CompareConfinement)
        {
            await CompareConfinementAsync(context, samples);
        }
    }

    private static async Task MeasureActorsAsync(LuaActors.Api.LuaVm vm, Samples samples)
    {
        for (var i = 0; i < RoundSize; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await vm.ExecuteAsync(Code);
            samples.AddSince(started);
        }
    }

    private static void MeasureFloor(HostProcess floor, Samples samples)
    {
        for (var i = 0; i < RoundSize; i++)
        {
            var started = Stopwatch.GetTimestamp();
            if (floor.Execute(Code) != (byte)FrameOp.Result)
            {
                throw new InvalidOperationException("floor request failed: " + Encoding.UTF8.GetString(floor.Payload));
            }

            samples.AddSince(started);
        }
    }

    /// <summary>The old library's way: a new interpreter for one chunk; returns what it wrote.</summary>
    private static string SpawnPerCall()
    {
        var info = new ProcessStartInfo("lua5.4")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add("io.write(1+1)");
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
