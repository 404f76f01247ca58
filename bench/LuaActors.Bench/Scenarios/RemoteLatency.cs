using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Execute p50 of a VM on another cluster node against the same VM type locally. Needs the
/// cluster mode (sharding across nodes), which is not there yet: this scenario reports so and
/// writes null figures, so the JSON keys and the target line exist from now on.
/// </summary>
internal sealed class RemoteLatency : IScenario
{
    public string Name => "remote-latency";

    public string Description => "execute on a VM on another node vs a local one (needs cluster mode)";

    public Task RunAsync(BenchContext context)
    {
        BenchContext.Say("not available yet: needs cluster mode");
        context.Set("remote_latency_status", "not available");
        context.Set("remote_p50_us", null);
        context.Set("local_p50_us", null);
        context.Target("remote_execute", "remote execute p50 <= 300 us", "remote_p50_us", 300, atMost: true);
        return Task.CompletedTask;
    }
}
