namespace LuaActors.Messages;

/// <summary>Asks a node's stats actor for its load and its VMs' usage (<c>GET /top</c> asks every member).</summary>
public sealed record GetNodeStats : ILuaActorsMessage
{
    public static GetNodeStats Instance { get; } = new();
}

/// <summary>
/// One node's load (1-minute load average of its machine, its processors) and the usage of the
/// VMs it runs: cumulative counts, which a reader turns into rates between two readings.
/// </summary>
public sealed record NodeStats(string Node, double LoadAverage, int Processors, IReadOnlyList<VmStats> Vms) : ILuaActorsMessage;

/// <summary>
/// One VM's process CPU seconds (user + system, of its current process), executes answered, and
/// those executes counted by duration bucket (bounds: <c>luaactors.vm.execution.duration</c>'s).
/// </summary>
public sealed record VmStats(string VmId, double CpuSeconds, long Executions, IReadOnlyList<long> DurationCounts);
