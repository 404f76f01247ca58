using System.Diagnostics;

namespace LuaActors.Bench.Shared;

/// <summary>
/// CPU spent while a load generator ran against one server: the server process's own per call, its
/// children's per call (a node's launcher and VM processes), and how busy the whole machine was
/// (all cores: the server, its VMs, the load generator). A machine near 1.0 has no core left for
/// more VMs to use; the per-call figures say where the cores went.
/// </summary>
internal sealed record LoadCpu(double ServerUsPerCall, double ChildrenUsPerCall, double MachineBusy)
{
    public static async Task<(LoadResult Result, LoadCpu Cpu)> MeasureAsync(int serverPid, Func<Task<LoadResult>> load)
    {
        var server = CpuTime.OfProcess(serverPid);
        var tree = CpuTime.OfTree(serverPid);
        var machine = CpuTime.OfMachine();
        var clock = Stopwatch.StartNew();
        var result = await load();
        var seconds = clock.Elapsed.TotalSeconds;
        var serverUsed = CpuTime.OfProcess(serverPid) - server;
        var treeUsed = CpuTime.OfTree(serverPid) - tree;
        var (busy, total) = CpuTime.OfMachine();
        var calls = Math.Max(1, result.PerSecond * seconds);
        return (result, new LoadCpu(
            serverUsed.TotalMicroseconds / calls,
            Math.Max(0, (treeUsed - serverUsed).TotalMicroseconds) / calls,
            (double)(busy - machine.Busy) / Math.Max(1, total - machine.Total)));
    }

    /// <summary>Puts the figures in the results under <paramref name="key"/>_cpu_us_per_call, _children_cpu_us_per_call, _machine_busy.</summary>
    public void Set(BenchContext context, string key)
    {
        context.Set(key + "_cpu_us_per_call", ServerUsPerCall);
        context.Set(key + "_children_cpu_us_per_call", ChildrenUsPerCall);
        context.Set(key + "_machine_busy", MachineBusy);
    }
}
