using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Many <c>return 1+1</c> requests in flight (a window of 256 outstanding in total), to one VM
/// and spread over eight, through (a) the embedding API and (b) the floor: the host protocol
/// pipelined over raw pipes, one thread with blocking I/O per process. The four cases rotate their order every round; each figure is the
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

        await using var manager = await context.StartManagerAsync();
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

            var vmPids = new int[VmCount];
            for (var i = 0; i < VmCount; i++)
            {
                vmPids[i] = (await vms[i].GetInfoAsync()).ProcessId ?? throw new InvalidOperationException($"VM {vms[i].Id} has no process");
            }

            var floorPids = floors.Select(f => f.Pid).ToArray();
            var cases = new (string Key, string Label, int[] LuaPids, Func<TimeSpan, Task<double>> Run)[]
            {
                ("actors_1vm_per_s", "(a) actors, 1 VM", vmPids[..1], d => ActorsAsync(vms[..1], d)),
                ("floor_1vm_per_s", "(b) floor, 1 VM", floorPids[..1], d => FloorAsync(floors[..1], d)),
                ("actors_8vm_per_s", "(a) actors, 8 VMs", vmPids, d => ActorsAsync(vms, d)),
                ("floor_8vm_per_s", "(b) floor, 8 VMs", floorPids, d => FloorAsync(floors, d)),
            };

            BenchContext.Say("warming up...");
            foreach (var c in cases)
            {
                await c.Run(context.Size(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1)));
            }

            var rates = cases.ToDictionary(c => c.Key, _ => new List<double>());
            var dotnetCpu = cases.ToDictionary(c => c.Key, _ => TimeSpan.Zero);
            var luaCpu = cases.ToDictionary(c => c.Key, _ => TimeSpan.Zero);
            var calls = cases.ToDictionary(c => c.Key, _ => 0.0);
            BenchContext.Say($"measuring: {rounds} round(s) of {duration.TotalSeconds:F0} s per case...");
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < cases.Length; k++)
                {
                    var c = cases[(k + round) % cases.Length];
                    var dotnetBefore = CpuTime.OfThisProcess();
                    var luaBefore = CpuTime.OfProcesses(c.LuaPids);
                    var started = Stopwatch.GetTimestamp();
                    var rate = await c.Run(duration);
                    calls[c.Key] += rate * Stats.Seconds(Stopwatch.GetTimestamp() - started);
                    dotnetCpu[c.Key] += CpuTime.OfThisProcess() - dotnetBefore;
                    luaCpu[c.Key] += CpuTime.OfProcesses(c.LuaPids) - luaBefore;
                    rates[c.Key].Add(rate);
                }
            }

            var table = new Table($"exec-throughput: 'return 1+1', {Window} in flight (calls/s, median of {rounds} round(s); CPU time per call)",
                "contender", "calls/s", "min round", "max round", "vs floor", ".NET CPU µs/call", "Lua CPU µs/call");
            foreach (var c in cases)
            {
                var median = Stats.Median(rates[c.Key]);
                var floorKey = c.Key.Replace("actors_", "floor_", StringComparison.Ordinal);
                var ratio = c.Key.StartsWith("actors_", StringComparison.Ordinal) ? median / Stats.Median(rates[floorKey]) : 1.0;
                var dotnetUs = dotnetCpu[c.Key].TotalMicroseconds / calls[c.Key];
                var luaUs = luaCpu[c.Key].TotalMicroseconds / calls[c.Key];
                table.Row(c.Label, median, rates[c.Key].Min(), rates[c.Key].Max(), $"{ratio:F2}x", dotnetUs, luaUs);
                context.Set(c.Key, median);
                var prefix = c.Key[..^"_per_s".Length];
                context.Set(prefix + "_dotnet_cpu_us_per_call", dotnetUs);
                context.Set(prefix + "_lua_cpu_us_per_call", luaUs);
            }

            table.Print();
            context.Set("exec_8vm_to_1vm", Stats.Median(rates["actors_8vm_per_s"]) / Stats.Median(rates["actors_1vm_per_s"]));
            context.Target("exec-8vm-vs-1vm", "embedded execute throughput, 8 VMs >= 1.5x 1 VM", "exec_8vm_to_1vm", 1.5, atMost: false);
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
    /// Per process, a window of <see cref="Window"/> / n requests pipelined by one dedicated
    /// thread with blocking I/O (no thread hops): every read that completes replies writes as
    /// many new requests in one write, until the time is over.
    /// </summary>
    private static Task<double> FloorAsync(HostProcess[] floors, TimeSpan duration)
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var window = Window / floors.Length;
        var counts = new long[floors.Length];
        var errors = new Exception?[floors.Length];
        var threads = floors.Select((floor, index) => new Thread(() =>
        {
            try
            {
                counts[index] = Pipeline(floor, window, deadline);
            }
            catch (Exception e)
            {
                errors[index] = e;
            }
        })
        {
            Name = $"bench-floor-{index}",
        }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (errors.FirstOrDefault(e => e is not null) is { } error)
        {
            throw new InvalidOperationException("floor pipeline failed: " + error.Message, error);
        }

        return Task.FromResult(counts.Sum() / Stats.Seconds(Stopwatch.GetTimestamp() - started));
    }

    private static long Pipeline(HostProcess floor, int window, long deadline)
    {
        long sent = 0, done = 0;
        var batch = new MemoryStream(window * 64);
        void Send(int n)
        {
            batch.SetLength(0);
            for (var i = 0; i < n; i++)
            {
                var frame = HostProcess.ExecFrame(floor.NextId(), Code);
                batch.Write(frame.Span);
                frame.Release();
            }

            floor.Write(batch.GetBuffer().AsSpan(0, (int)batch.Length));
            sent += n;
        }

        Send(window);
        while (done < sent)
        {
            var n = floor.ReadReplies();
            done += n;
            if (Stopwatch.GetTimestamp() < deadline)
            {
                Send(n);
            }
        }

        return done;
    }
}
