using Akka.Actor;
using Akka.Cluster;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Tests.Support;

/// <summary>
/// Several cluster nodes as actor systems in this test process, on loopback with port 0, each
/// with its own VmManager. Node loss is simulated by terminating a system without leaving.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private const string NodeConfig = TestConfig.Hocon + """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-majority
        akka.cluster.split-brain-resolver.stable-after = 3s
        # Terminating a system is how these tests lose a node abruptly: no graceful leave then.
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    private readonly List<VmManager> _nodes = [];

    public IReadOnlyList<VmManager> Nodes => _nodes;

    public static Address AddressOf(VmManager node) => Akka.Cluster.Cluster.Get(node.System).SelfAddress;

    /// <summary>Starts <paramref name="count"/> nodes, joins them, and waits until all are Up everywhere.</summary>
    /// <param name="extraConfig">HOCON added to every node's (VM types of a test's own).</param>
    public static async Task<TestCluster> StartAsync(int count = 3, string extraConfig = "")
    {
        var cluster = new TestCluster();
        for (var i = 0; i < count; i++)
        {
            cluster._nodes.Add(await VmManager.StartAsync(new VmManagerOptions { SystemName = "luaactors", Config = NodeConfig + "\n" + extraConfig }));
        }

        var first = AddressOf(cluster._nodes[0]);
        foreach (var node in cluster._nodes)
        {
            Akka.Cluster.Cluster.Get(node.System).Join(first);
        }

        await WaitUntilAsync(() => cluster._nodes.All(n =>
            Akka.Cluster.Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == count),
            TimeSpan.FromSeconds(30), "the cluster did not form");
        return cluster;
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds or the time is up.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Retries <paramref name="attempt"/> (which throws until the condition holds) until it succeeds.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> attempt, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Kills a node without leaving the cluster (its VM actors stop, so its processes go).</summary>
    public async Task CrashAsync(VmManager node)
    {
        _nodes.Remove(node);
        await node.System.Terminate();
    }

    /// <summary>The node leaves gracefully (CoordinatedShutdown): its VMs are handed over.</summary>
    public async Task LeaveAsync(VmManager node)
    {
        _nodes.Remove(node);
        await node.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.System.Terminate();
        }
    }

    /// <summary>The process ids of the given VMs, read through <paramref name="via"/>.</summary>
    public static async Task<Dictionary<string, VmInfo>> InfosAsync(VmManager via, IEnumerable<string> ids) =>
        (await Task.WhenAll(ids.Select(id => via.GetVmInfoAsync(id)))).ToDictionary(i => i.VmId);
}
