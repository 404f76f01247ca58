using System.Globalization;
using Akka.Actor;
using LuaActors.Diagnostics;
using LuaActors.Messages;

namespace LuaActors.Host;

/// <summary>
/// Answers <see cref="GetNodeStats"/> with this node's load and its VMs' usage, at
/// <c>/user/node-stats</c> on every node, so that one node's <c>GET /top</c> can ask them all.
/// </summary>
internal sealed class NodeStatsActor : ReceiveActor
{
    public const string Name = "node-stats";

    public NodeStatsActor()
    {
        var node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();
        Receive<GetNodeStats>(_ => Sender.Tell(new NodeStats(
            node,
            LoadAverage(),
            Environment.ProcessorCount,
            LuaActorsMetrics.ReadVms(Context.System)
                .Select(vm => new VmStats(vm.VmId, vm.Usage?.CpuSeconds ?? 0, vm.Executions, vm.DurationCounts))
                .ToList())));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new NodeStatsActor());

    /// <summary>The machine's 1-minute load average (/proc/loadavg), -1 where there is none.</summary>
    private static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : -1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
