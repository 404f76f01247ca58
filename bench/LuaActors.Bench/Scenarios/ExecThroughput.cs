using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Many <c>return 1+1</c> requests in flight (a window of 256 outstanding in total), to one VM
/// and spread over eight, through (a) the embedding API and (b) the floor: the host protocol
/// pipelined over raw pipes. The four cases rotate their order every round; each figure is the
/// median of its rounds.
/// </summary>
internal sealed class ExecThroughput : IScenario
{
    private const string Code = "return 1+1";
    private const int Window = 256;
    private const int VmCount = 8;

    public string Name => "exec-throughput";

    public string Description => "return 1+1 with 256 requests in flight, 1 VM and 8 VMs: actors vs the bare pipe protocol";

    public async Task RunAsync(BenchContext context)
    {
        var rounds = context.Size(1, 5);
        var duration = context.Size(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        await using var manager = await BenchContext.StartManagerAsync();
        var vms = new LuaVm[VmCount];
        for (var i = 0; i < VmCount; i++)
        {
            vms[i] = await manager.CreateVmAsync($"throughput-{i}");
        }

        var floors = new HostProcess[VmCount];
        try
        {
            for (var i = 0; i < VmCount; i++)
            {
                floors[i] = HostProcess.Start();
            }

            var cases = new (string Key, string Label, Func<TimeSpan, Task<double>> Run)[]
            {
                ("actors_1vm_per_s", "(a) actors, 1 VM", d => ActorsAsync(vms[..1], d)),
                ("floor_1vm_per_s", "(b) floor, 1 VM", d => FloorAsync(floors[..1], d)),
                ("actors_8vm_per_s", "(a) actors, 8 VMs", d => ActorsAsync(vms, d)),
                ("floor_8vm_per_s", "(b) floor, 8 VMs", d => FloorAsync(floors, d)),
            };

            BenchContext.Say("warming up...");
            foreach (var c in cases)
            {
                await c.Run(context.Size(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1)));
            }

            var rates = cases.ToDictionary(c => c.Key, _ => new List<double>());
            BenchContext.Say($"measuring: {rounds} round(s) of {duration.TotalSeconds:F0} s per case...");
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < cases.Length; k++)
                {
                    var c = cases[(k + round) % cases.Length];
                    rates[c.Key].Add(await c.Run(duration));
                }
            }

            var table = new Table($"exec-throughput: 'return 1+1', {Window} in flight (calls/s, median of {rounds} round(s))",
                "contender", "calls/s", "min round", "max round", "vs floor");
            foreach (var c in cases)
            {
                var median = Stats.Median(rates[c.Key]);
                var floorKey = c.Key.Replace("actors_", "floor_", StringComparison.Ordinal);
                var ratio = c.Key.StartsWith("actors_", StringComparison.Ordinal) ? median / Stats.Median(rates[floorKey]) : 1.0;
                table.Row(c.Label, median, rates[c.Key].Min(), rates[c.Key].Max(), $"{ratio:F2}x");
                context.Set(c.Key, median);
            }

            table.Print();
            context.Set("exec_throughput_window", Window);
            context.Set("exec_throughput_rounds", rounds);
        }
        finally
        {
            foreach (var floor in floors)
            {
                floor?.Dispose();
            }
        }
    }

    /// <summary>
    /// <see cref="Window"/> callers, spread round-robin over <paramref name="vms"/>, each awaiting
    /// one ExecuteAsync after another until <paramref name="duration"/> is over.
    /// </summary>
    private static async Task<double> ActorsAsync(LuaVm[] vms, TimeSpan duration)
    {
        long completed = 0;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var callers = Enumerable.Range(0, Window).Select(i => Task.Run(async () =>
        {
            var vm = vms[i % vms.Length];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                await vm.ExecuteAsync(Code);
                Interlocked.Increment(ref completed);
            }
        })).ToArray();
        await Task.WhenAll(callers);
        return completed / Stats.Seconds(Stopwatch.GetTimestamp() - started);
    }

    /// <summary>
    /// Per process, a window of <see cref="Window"/> / n requests pipelined: every read that
    /// completes replies writes as many new requests in one write, until the time is over.
    /// </summary>
    private static async Task<double> FloorAsync(HostProcess[] floors, TimeSpan duration)
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var window = Window / floors.Length;
        var counts = await Task.WhenAll(floors.Select(floor => Task.Run(async () =>
        {
            long sent = 0, done = 0;
            var batch = new MemoryStream(window * 64);
            void Send(int n)
            {
                batch.SetLength(0);
                for (var i = 0; i < n; i++)
                {
                    batch.Write(HostProcess.ExecFrame(floor.NextId(), Code));
                }

                floor.Write(batch.GetBuffer().AsSpan(0, (int)batch.Length));
                sent += n;
            }

            Send(window);
            while (done < sent)
            {
                var n = await floor.ReadRepliesAsync();
                done += n;
                if (Stopwatch.GetTimestamp() < deadline)
                {
                    Send(n);
                }
            }

            return done;
        })));
        return counts.Sum() / Stats.Seconds(Stopwatch.GetTimestamp() - started);
    }
}
