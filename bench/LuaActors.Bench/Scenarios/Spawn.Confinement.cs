using System.Diagnostics;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// <c>--confinement compare</c>: VM start with the basic type's confinement off and on, on two
/// managers: one VM at a time (create until it answers a ping: the start time a caller sees) and
/// <c>count</c> at once (as the main table), alternating which goes first.
/// </summary>
internal sealed partial class Spawn
{
    private static async Task CompareConfinementAsync(BenchContext context, int count)
    {
        const string AskTimeout = "luaactors.api.ask-timeout = 300s";
        await using var open = await context.StartManagerAsync(AskTimeout, confined: false);
        await using var confined = await context.StartManagerAsync(AskTimeout, confined: true);
        var sequential = context.Size(100, 300);
        BenchContext.Say($"confinement off vs on: {sequential} VMs one at a time, then {count} at once, each way...");
        await ActorsRoundAsync(open, 20, "warm-off", measureMemory: false);
        await ActorsRoundAsync(confined, 20, "warm-on", measureMemory: false);

        var startOff = new Samples(sequential);
        var startOn = new Samples(sequential);
        for (var i = 0; i < sequential; i++)
        {
            var (first, second, firstSamples, secondSamples) = i % 2 == 0 ? (open, confined, startOff, startOn) : (confined, open, startOn, startOff);
            await StartOneAsync(first, $"seq-{i}", firstSamples);
            await StartOneAsync(second, $"seq-{i}", secondSamples);
        }

        await ShutdownAllAsync(open, sequential);
        await ShutdownAllAsync(confined, sequential);
        var offRounds = new List<double>();
        var onRounds = new List<double>();
        for (var round = 0; round < context.Size(2, 4); round++)
        {
            // Alternating which goes first: the first batch after a pause pays for warming up.
            if (round % 2 == 0)
            {
                offRounds.Add((await ActorsRoundAsync(open, count, $"batch-{round}", measureMemory: false)).Seconds);
                onRounds.Add((await ActorsRoundAsync(confined, count, $"batch-{round}", measureMemory: false)).Seconds);
            }
            else
            {
                onRounds.Add((await ActorsRoundAsync(confined, count, $"batch-{round}", measureMemory: false)).Seconds);
                offRounds.Add((await ActorsRoundAsync(open, count, $"batch-{round}", measureMemory: false)).Seconds);
            }
        }

        var batchOff = Stats.Median(offRounds);
        var batchOn = Stats.Median(onRounds);

        new Table($"spawn: confinement off vs on (batches: median of {offRounds.Count})", "basic type", "start p50 ms", "start p99 ms", $"{count} at once s", "per VM ms", "batches (s)")
            .Row("confinement off", startOff.PercentileMs(50), startOff.PercentileMs(99), batchOff, batchOff * 1000 / count, string.Join(" ", offRounds.Select(r => r.ToString("F2"))))
            .Row("confinement on", startOn.PercentileMs(50), startOn.PercentileMs(99), batchOn, batchOn * 1000 / count, string.Join(" ", onRounds.Select(r => r.ToString("F2"))))
            .Print();
        BenchContext.Say($"confinement on / off: start p50 {startOn.PercentileMs(50) / startOff.PercentileMs(50):F2}x, {count} at once {batchOn / batchOff:F2}x");
        context.Set("confinement_off_vm_start_p50_ms", startOff.PercentileMs(50));
        context.Set("confinement_on_vm_start_p50_ms", startOn.PercentileMs(50));
        context.Set("confinement_off_vm_start_p99_ms", startOff.PercentileMs(99));
        context.Set("confinement_on_vm_start_p99_ms", startOn.PercentileMs(99));
        context.Set($"confinement_off_{count}_vms_s", batchOff);
        context.Set($"confinement_on_{count}_vms_s", batchOn);
        context.Set("confinement_sequential_starts", sequential);
    }

    private static async Task StartOneAsync(LuaActors.Api.VmManager manager, string id, Samples samples)
    {
        var started = Stopwatch.GetTimestamp();
        var vm = await manager.CreateVmAsync(id);
        await vm.PingAsync();
        samples.AddSince(started);
    }
}
