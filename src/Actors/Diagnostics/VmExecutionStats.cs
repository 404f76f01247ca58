using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Diagnostics;

/// <summary>
/// Executes one VM answered and how long they took, counted into the buckets of
/// luaactors.vm.execution.duration (<see cref="LuaActorsMetrics.ExecutionBucketBounds"/>): what
/// <c>luaactors top</c> turns into executions/s and p99. Written on the actor's thread, read from any.
/// </summary>
public sealed class VmExecutionStats
{
    private readonly long[] _counts = new long[LuaActorsMetrics.ExecutionBucketBounds.Count + 1];
    private long _executions;

    public long Executions => Interlocked.Read(ref _executions);

    /// <summary>Executes per bucket: the last counts those over the highest bound.</summary>
    public long[] Counts() => _counts.Select((_, i) => Interlocked.Read(ref _counts[i])).ToArray();

    public void Record(double seconds)
    {
        var bounds = LuaActorsMetrics.ExecutionBucketBounds;
        var bucket = 0;
        while (bucket < bounds.Count && seconds > bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _executions);
    }
}

/// <summary>One VM of this node as <see cref="LuaActorsMetrics.ReadVms"/> finds it now.</summary>
public sealed record VmReading(
    string VmId, string Type, VmState State, int? ProcessId, ProcessUsage? Usage, long Executions, IReadOnlyList<long> DurationCounts);

public static partial class LuaActorsMetrics
{
    /// <summary>The upper bounds (seconds) of luaactors.vm.execution.duration's buckets.</summary>
    public static IReadOnlyList<double> ExecutionBucketBounds => ExecutionBuckets;

    /// <summary>
    /// The VMs of <paramref name="system"/> on this node, with their process usage (read from /proc
    /// now) and execution counts (counted while something collects the metrics, as the node does).
    /// </summary>
    public static IReadOnlyList<VmReading> ReadVms(ActorSystem system)
    {
        var readings = new List<VmReading>();
        foreach (var (vm, tracked) in Vms)
        {
            if (vm is not ActorRefWithCell { Underlying.System: var owner } || owner != system || tracked.Sample() is not { Type: { } type } sample)
            {
                continue;
            }

            var usage = sample.ProcessId is { } pid ? VmProcessStats.Read(pid) : null;
            readings.Add(new VmReading(tracked.VmId, type, sample.State, sample.ProcessId, usage, tracked.Stats.Executions, tracked.Stats.Counts()));
        }

        return readings;
    }
}
