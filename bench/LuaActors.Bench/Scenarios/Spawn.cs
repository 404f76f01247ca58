using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;
using LuaActors.Process;
using LuaActors.Protocol;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// 1000 VMs (quick mode: 200) created through the manager, all at once, until every one has answered a ping,
/// against 1000 bare host processes started from one thread and pinged directly (the floor), 1000
/// started by luaactors-spawn as the library's default launcher does, no actors ((a) - (d) prices
/// the actors and the pumps), and 1000 behind the exec chain (setsid, setpriv, and the
/// address-space limit set with prlimit(2); <c>launcher = exec-chain</c>). Also the memory a VM
/// costs: VmRSS of its process, and managed heap on the .NET side.
/// </summary>
internal sealed partial class Spawn : IScenario
{
    private const int FullCount = 1000;

    public string Name => "spawn";

    public string Description => "1000 VMs (quick: 200) created and answering: the manager vs bare host processes; memory per VM";

    public async Task RunAsync(BenchContext context)
    {
        // Quick mode starts 200: three contenders of 1000 process starts each take ~30 s or more
        // on a machine where a process start costs several ms, too long for `all --quick` in CI.
        var count = context.Size(200, FullCount);
        var rounds = context.Size(1, 2);
        // On a loaded machine 1000 starts can take longer than the default ask timeout (30 s);
        // the figure is the time, so let the asks wait.
        await using var manager = await context.StartManagerAsync("luaactors.api.ask-timeout = 300s");

        // Warm-up: the create path's JIT and the launcher thread, then the floor's.
        BenchContext.Say("warming up...");
        await ActorsRoundAsync(manager, 50, "warm", measureMemory: false);
        FloorRound(50, measureMemory: false);
        FloorRound(50, measureMemory: false, Launch.ExecChain);
        FloorRound(50, measureMemory: false, Launch.Spawner);

        var actors = new List<RoundResult>();
        var floor = new List<RoundResult>();
        var chain = new List<RoundResult>();
        var spawner = new List<RoundResult>();
        for (var round = 0; round < rounds; round++)
        {
            BenchContext.Say($"round {round + 1}/{rounds}: {count} VMs through the manager, {count} bare processes, {count} by luaactors-spawn, {count} through the exec chain...");
            if (round % 2 == 0)
            {
                actors.Add(await ActorsRoundAsync(manager, count, $"r{round}", measureMemory: true));
                floor.Add(FloorRound(count, measureMemory: true));
                spawner.Add(FloorRound(count, measureMemory: true, Launch.Spawner));
                chain.Add(FloorRound(count, measureMemory: true, Launch.ExecChain));
            }
            else
            {
                chain.Add(FloorRound(count, measureMemory: true, Launch.ExecChain));
                spawner.Add(FloorRound(count, measureMemory: true, Launch.Spawner));
                floor.Add(FloorRound(count, measureMemory: true));
                actors.Add(await ActorsRoundAsync(manager, count, $"r{round}", measureMemory: true));
            }
        }

        var actorsS = Stats.Median(actors.Select(r => r.Seconds));
        var floorS = Stats.Median(floor.Select(r => r.Seconds));
        var rssKb = Stats.Median(actors.Select(r => r.RssKbPerVm));
        var floorRssKb = Stats.Median(floor.Select(r => r.RssKbPerVm));
        var managed = Stats.Median(actors.Select(r => r.ManagedBytesPerVm));
        var floorManaged = Stats.Median(floor.Select(r => r.ManagedBytesPerVm));
        var chainS = Stats.Median(chain.Select(r => r.Seconds));
        var spawnerS = Stats.Median(spawner.Select(r => r.Seconds));
        new Table($"spawn: {count} VMs until every one answers a ping (median of {rounds} round(s))",
                "contender", "seconds", "per VM ms", "rounds (s)", "VmRSS/VM KiB", "managed B/VM", "teardown s")
            .Row("(a) actors: CreateVmAsync + PingAsync, all at once", actorsS, actorsS * 1000 / count,
                string.Join(" ", actors.Select(r => r.Seconds.ToString("F2"))), rssKb, managed, Stats.Median(actors.Select(r => r.TeardownSeconds)))
            .Row("(b) floor: Process.Start + 'P' frame, one thread", floorS, floorS * 1000 / count,
                string.Join(" ", floor.Select(r => r.Seconds.ToString("F2"))), floorRssKb, floorManaged, Stats.Median(floor.Select(r => r.TeardownSeconds)))
            .Row("(c) no actors, exec chain: setsid setpriv lua5.4 + prlimit(2)", chainS, chainS * 1000 / count,
                string.Join(" ", chain.Select(r => r.Seconds.ToString("F2"))), Stats.Median(chain.Select(r => r.RssKbPerVm)),
                Stats.Median(chain.Select(r => r.ManagedBytesPerVm)), Stats.Median(chain.Select(r => r.TeardownSeconds)))
            .Row("(d) no actors, luaactors-spawn (the default launcher), one thread", spawnerS, spawnerS * 1000 / count,
                string.Join(" ", spawner.Select(r => r.Seconds.ToString("F2"))), Stats.Median(spawner.Select(r => r.RssKbPerVm)),
                Stats.Median(spawner.Select(r => r.ManagedBytesPerVm)), Stats.Median(spawner.Select(r => r.TeardownSeconds)))
            .Print();
        BenchContext.Say($"actors / floor: {actorsS / floorS:F2}x; luaactors-spawn alone: {spawnerS / floorS:F2}x; the exec chain alone: {chainS / floorS:F2}x   (target: 1000 VMs answering in <= 2 s)");

        context.Set($"actors_{count}_s", actorsS);
        context.Set($"floor_{count}_s", floorS);
        context.Set("rss_per_vm_kb", rssKb);
        context.Set("managed_bytes_per_vm", managed);
        context.Set("floor_rss_per_vm_kb", floorRssKb);
        context.Set("floor_managed_bytes_per_vm", floorManaged);
        context.Set($"floor_chain_{count}_s", chainS);
        context.Set($"floor_spawner_{count}_s", spawnerS);
        context.Set($"actors_{count}_teardown_s", Stats.Median(actors.Select(r => r.TeardownSeconds)));
        context.Set("spawn_rounds", rounds);
        context.Set("spawn_vms", count);
        context.Target("spawn_1000", "1000 VMs answering in <= 2 s", "actors_1000_s", 2, atMost: true);
        if (context.CompareConfinement)
        {
            await CompareConfinementAsync(context, count);
        }
    }

    /// <summary>How a floor round starts its host processes.</summary>
    private enum Launch
    {
        ProcessStart,
        Spawner,
        ExecChain,
    }

    private sealed record RoundResult(double Seconds, double RssKbPerVm, double ManagedBytesPerVm, double TeardownSeconds);

    private static async Task<RoundResult> ActorsRoundAsync(VmManager manager, int count, string prefix, bool measureMemory)
    {
        var managedBefore = measureMemory ? ManagedBytes() : 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var vm = await manager.CreateVmAsync($"{prefix}-{i}");
            await vm.PingAsync();
        }));
        var seconds = Stats.Seconds(Stopwatch.GetTimestamp() - started);

        double rssKb = double.NaN, managed = double.NaN;
        if (measureMemory)
        {
            managed = (ManagedBytes() - managedBefore) / (double)count;
            var vms = await manager.ListVmsAsync();
            var pids = vms.Where(v => v.ProcessId is not null).Select(v => v.ProcessId!.Value).ToArray();
            if (pids.Length != count)
            {
                throw new InvalidOperationException($"{pids.Length} of {count} VMs have a process");
            }

            CheckIsLua(pids[0]);
            rssKb = pids.Select(pid => (ProcessMemory.ResidentBytes(pid) ?? 0) / 1024.0).Average();
        }

        if (measureMemory)
        {
            BenchContext.Say($"actors: {count} VMs answering after {seconds:F2} s; removing them...");
        }

        var teardown = Stopwatch.GetTimestamp();
        await ShutdownAllAsync(manager, count);
        return new RoundResult(seconds, rssKb, managed, Stats.Seconds(Stopwatch.GetTimestamp() - teardown));
    }

    /// <summary>
    /// ShutdownAllAsync, and if its ask times out (the manager is still stopping VMs), waits
    /// until every VM is gone: the next round must start from none.
    /// </summary>
    private static async Task ShutdownAllAsync(VmManager manager, int count)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var removed = await manager.ShutdownAllAsync();
            if (removed != count)
            {
                throw new InvalidOperationException($"ShutdownAllAsync removed {removed} VMs, expected {count}");
            }
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            BenchContext.Say($"ShutdownAllAsync did not answer within its ask timeout; waiting for the VMs to stop...");
            // The VMs are already out of the registry; a second ShutdownAll answers once the
            // ones still stopping are gone.
            while (true)
            {
                try
                {
                    await manager.ShutdownAllAsync();
                    break;
                }
                catch (Akka.Actor.AskTimeoutException) when (Stopwatch.GetElapsedTime(started) < TimeSpan.FromMinutes(10))
                {
                }
            }
        }
    }

    /// <summary>
    /// Starts and pings <paramref name="count"/> host processes from one dedicated thread that
    /// lives until they are killed (PR_SET_PDEATHSIG in the launch chain fires when the starting
    /// thread ends).
    /// </summary>
    private static RoundResult FloorRound(int count, bool measureMemory, Launch launch = Launch.ProcessStart)
    {
        RoundResult? result = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = FloorRoundOnThisThread(count, measureMemory, launch);
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            Name = "bench-floor-spawn",
        };
        thread.Start();
        thread.Join();
        return error is null ? result! : throw new InvalidOperationException("floor spawn round failed: " + error.Message, error);
    }

    private static RoundResult FloorRoundOnThisThread(int count, bool measureMemory, Launch launch)
    {
        var managedBefore = measureMemory ? ManagedBytes() : 0;
        var processes = new List<HostProcess>(count);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var pongs = new Task<(byte Op, uint Id)>[count];
            for (var i = 0; i < count; i++)
            {
                var process = launch switch
                {
                    Launch.Spawner => HostProcess.StartThroughSpawner(),
                    Launch.ExecChain => HostProcess.Start(HostProcess.LaunchChain),
                    _ => HostProcess.Start(),
                };
                processes.Add(process);
                process.Write(HostProcess.PingFrame(1));
                pongs[i] = process.ReadFrameAsync().AsTask();
            }

            Task.WaitAll(pongs);
            var seconds = Stats.Seconds(Stopwatch.GetTimestamp() - started);
            if (pongs.Any(p => p.Result.Op != (byte)FrameOp.Ok))
            {
                throw new InvalidOperationException("a bare host process did not answer its ping with 'K'");
            }

            double rssKb = double.NaN, managed = double.NaN;
            if (measureMemory)
            {
                managed = (ManagedBytes() - managedBefore) / (double)count;
                CheckIsLua(processes[0].Pid);
                rssKb = processes.Select(p => (ProcessMemory.ResidentBytes(p.Pid) ?? 0) / 1024.0).Average();
            }

            if (measureMemory)
            {
                BenchContext.Say($"floor{launch switch { Launch.Spawner => " by luaactors-spawn", Launch.ExecChain => " through the exec chain", _ => "" }}: {count} processes answering after {seconds:F2} s; killing them...");
            }

            var teardown = Stopwatch.GetTimestamp();
            foreach (var process in processes)
            {
                process.Dispose();
            }

            processes.Clear();
            return new RoundResult(seconds, rssKb, managed, Stats.Seconds(Stopwatch.GetTimestamp() - teardown));
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    /// <summary>
    /// The managed heap after a full collection, once finalizers have run: Process objects and
    /// safe handles of an earlier round live until their finalizers ran.
    /// </summary>
    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The PID a VM reports must be the interpreter itself (setsid and setpriv exec into it).</summary>
    private static void CheckIsLua(int pid)
    {
        var comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
        if (comm != "lua5.4")
        {
            throw new InvalidOperationException($"VM process {pid} is '{comm}', not lua5.4: VmRSS would be wrong");
        }
    }
}
