using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// <c>kill -9</c> of a VM's process (its PID from GetVmInfoAsync), then ExecuteAsync in a loop
/// until it answers again; a VmCrashedException while it restarts is expected.
/// </summary>
/// <remarks>
/// The manager's restart intensity allows 10 restarts within 60 s, and within one window every
/// restart after the first waits a doubling backoff (10 ms, 20 ms, … up to 5 s). Both are
/// supervision policy, not recovery speed, so this bench raises max-restarts and shortens the
/// window to <see cref="Window"/>, then leaves more than a window between kills: every kill is
/// then what a VM's first crash gets with the default settings — an immediate restart.
/// </remarks>
internal sealed class CrashRecovery : IScenario
{
    private const string Code = "return 1+1";
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(300);

    public string Name => "crash-recovery";

    public string Description => "kill -9 of a VM's process until it answers again";

    public async Task RunAsync(BenchContext context)
    {
        var kills = context.Size(10, 50);
        await using var manager = await context.StartManagerAsync($$"""
            luaactors.vm.restart {
              max-restarts = 1000
              within = {{Window.TotalMilliseconds}}ms
            }
            """);
        var vm = await manager.CreateVmAsync("crash", new VmOptions { InitScript = "counter = 0" });

        BenchContext.Say("warming up (3 kills)...");
        for (var i = 0; i < 3; i++)
        {
            await KillAndRecoverAsync(vm);
        }

        var recovery = new Samples(kills);
        var failedCalls = new Samples(kills);
        var attempts = 0;
        BenchContext.Say($"measuring: {kills} kills, {Pause.TotalMilliseconds:F0} ms apart...");
        for (var i = 0; i < kills; i++)
        {
            var (total, firstFailure, tries) = await KillAndRecoverAsync(vm);
            recovery.Add(total);
            if (firstFailure is { } f)
            {
                failedCalls.Add(f);
            }

            attempts += tries;
        }

        var info = await vm.GetInfoAsync();
        new Table($"crash-recovery: kill -9 until ExecuteAsync answers again ({kills} kills, ms)",
                "what", "samples", "p50", "p90", "p99", "max")
            .Row("kill -9 -> next successful ExecuteAsync", recovery.Count, recovery.PercentileMs(50), recovery.PercentileMs(90), recovery.PercentileMs(99), recovery.MaxUs() / 1000)
            .Row("kill -9 -> VmCrashedException (when one came)", failedCalls.Count, failedCalls.PercentileMs(50), failedCalls.PercentileMs(90), failedCalls.PercentileMs(99), failedCalls.MaxUs() / 1000)
            .Print();
        BenchContext.Say($"ExecuteAsync calls per recovery: {attempts / (double)kills:F2}; VM restarts counted: {info.Restarts}; state {info.State}");

        context.Set("recovery_p50_ms", recovery.PercentileMs(50));
        context.Set("recovery_p99_ms", recovery.PercentileMs(99));
        context.Set("recovery_max_ms", recovery.MaxUs() / 1000);
        context.Set("recovery_kills", kills);
        context.Target("recovery", "answering again <= 20 ms after kill -9 (p50)", "recovery_p50_ms", 20, atMost: true);
    }

    /// <summary>Kills the VM's process and calls until it answers; waits <see cref="Pause"/> afterwards.</summary>
    private static async Task<(long Ticks, long? FirstFailureTicks, int Attempts)> KillAndRecoverAsync(LuaVm vm)
    {
        var before = await vm.GetInfoAsync();
        var pid = before.ProcessId ?? throw new InvalidOperationException($"VM {vm.Id} has no process ({before.State})");
        using var process = System.Diagnostics.Process.GetProcessById(pid);

        var started = Stopwatch.GetTimestamp();
        process.Kill(); // SIGKILL
        long? firstFailure = null;
        var attempts = 0;
        while (true)
        {
            attempts++;
            try
            {
                var result = await vm.ExecuteAsync(Code);
                if (result.ValuesJson != "[2]")
                {
                    throw new InvalidOperationException("unexpected result " + result.ValuesJson);
                }

                break;
            }
            catch (VmCrashedException)
            {
                firstFailure ??= Stopwatch.GetTimestamp() - started;
            }

            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"VM {vm.Id} did not answer within 30 s of kill -9");
            }
        }

        var total = Stopwatch.GetTimestamp() - started;
        var after = await vm.GetInfoAsync();
        if (after.ProcessId == pid)
        {
            throw new InvalidOperationException($"VM {vm.Id} answered from the process that was killed ({pid})");
        }

        await Task.Delay(Pause);
        return (total, firstFailure, attempts);
    }
}
