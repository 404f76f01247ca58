using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// <c>--confinement compare</c>: the actors contender again, on two managers whose basic type
/// has confinement off and on, in alternating rounds: what the kernel layers cost per execute.
/// </summary>
internal sealed partial class ExecLatency
{
    private static async Task CompareConfinementAsync(BenchContext context, int samples)
    {
        await using var confined = await context.StartManagerAsync(confined: true);
        await using var open = await context.StartManagerAsync(confined: false);
        var openVm = await open.CreateVmAsync("latency-open");
        var confinedVm = await confined.CreateVmAsync("latency-confined");
        BenchContext.Say("confinement off vs on: warming up...");
        await BenchContext.WarmUpAsync(context.Size(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)), context.Size(3_000, 10_000), async () =>
        {
            await openVm.ExecuteAsync(Code);
            await confinedVm.ExecuteAsync(Code);
        });

        var off = new Samples(samples);
        var on = new Samples(samples);
        for (var round = 0; round < samples / RoundSize; round++)
        {
            var (first, second, firstSamples, secondSamples) = round % 2 == 0 ? (openVm, confinedVm, off, on) : (confinedVm, openVm, on, off);
            await MeasureActorsAsync(first, firstSamples);
            await MeasureActorsAsync(second, secondSamples);
        }

        new Table("exec-latency: confinement off vs on, one 'return 1+1' at a time (µs)", "basic type", "samples", "p50", "p90", "p99", "mean")
            .Row("confinement off", off.Count, off.PercentileUs(50), off.PercentileUs(90), off.PercentileUs(99), off.MeanUs())
            .Row("confinement on", on.Count, on.PercentileUs(50), on.PercentileUs(90), on.PercentileUs(99), on.MeanUs())
            .Print();
        BenchContext.Say($"confinement on / off (p50): {on.PercentileUs(50) / off.PercentileUs(50):F2}x");
        context.Set("confinement_off_exec_p50_us", off.PercentileUs(50));
        context.Set("confinement_on_exec_p50_us", on.PercentileUs(50));
        context.Set("confinement_off_exec_p99_us", off.PercentileUs(99));
        context.Set("confinement_on_exec_p99_us", on.PercentileUs(99));
        context.Set("ratio_confinement_on_to_off_exec_p50", on.PercentileUs(50) / off.PercentileUs(50));
    }
}
