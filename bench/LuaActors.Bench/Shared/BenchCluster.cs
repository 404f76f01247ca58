using Akka.Actor;
using Akka.Cluster;
using LuaActors.Api;

namespace LuaActors.Bench.Shared;

/// <summary>
/// Cluster nodes as actor systems in this process, on loopback with port 0, with the
/// failure-detection and split-brain settings of hocon/node.conf (what `luaactors node` runs).
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private const string NodeConfig = """
        # Losing a node on purpose makes the survivors' remoting log errors: expected here.
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-majority
        # As in hocon/node.conf; docs/performance.md explains what it costs.
        akka.cluster.split-brain-resolver.stable-after = 5s
        akka.cluster.leader-actions-interval = 250ms
        akka.cluster.unreachable-nodes-reaper-interval = 250ms
        # Terminating a system is how the bench loses a node abruptly: no graceful leave.
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    private readonly List<VmManager> _nodes = [];

    public IReadOnlyList<VmManager> Nodes => _nodes;

    public static string AddressOf(VmManager node) => Akka.Cluster.Cluster.Get(node.System).SelfAddress.ToString();

    /// <summary>
    /// Starts <paramref name="count"/> nodes and joins them to the first (the oldest, which hosts
    /// the shard coordinator). <paramref name="extraHocon"/> is laid over the node settings
    /// (the bench's <c>--config FILE</c>, e.g. hocon/fast-failover.conf).
    /// </summary>
    public static async Task<BenchCluster> StartAsync(int count, string? extraHocon = null)
    {
        var cluster = new BenchCluster();
        var config = NodeConfig + "\n" + extraHocon;
        for (var i = 0; i < count; i++)
        {
            cluster._nodes.Add(await VmManager.StartAsync(new VmManagerOptions { SystemName = "luaactors", Config = config }));
        }

        var first = Akka.Cluster.Cluster.Get(cluster._nodes[0].System).SelfAddress;
        foreach (var node in cluster._nodes)
        {
            Akka.Cluster.Cluster.Get(node.System).Join(first);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!cluster._nodes.All(n => Akka.Cluster.Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == count))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the bench cluster did not form");
            }

            await Task.Delay(50);
        }

        return cluster;
    }

    /// <summary>Loses a node abruptly: its system stops without leaving (its VM processes die with it).</summary>
    public async Task CrashAsync(VmManager node)
    {
        _nodes.Remove(node);
        await node.System.Terminate();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.System.Terminate();
        }
    }
}
