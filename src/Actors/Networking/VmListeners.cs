using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.DistributedData;
using LuaActors.Configuration;

namespace LuaActors.Networking;

/// <summary>
/// A listening socket a VM opened (socket.bind, StartServerAsync), on node <see cref="Node"/>
/// (its actor system's address), whose host is <see cref="Host"/>.
/// </summary>
public sealed record VmListener(string VmId, string Node, string Host, IPAddress Address, int Port)
{
    /// <summary>
    /// Whether a VM on a node with host <paramref name="fromHost"/> that dials
    /// <paramref name="address"/>:<paramref name="port"/> reaches this listener. A loopback or
    /// wildcard listener is reached over loopback only from the same host (elsewhere the same
    /// address is another machine's listener); a wildcard one also at the node's host address.
    /// </summary>
    public bool ReachedBy(IPAddress address, int port, string fromHost)
    {
        if (port != Port || address.AddressFamily != Address.AddressFamily)
        {
            return false;
        }

        if (NetAddresses.IsAny(Address))
        {
            return (IPAddress.IsLoopback(address) && fromHost == Host) || NetAddresses.Canonical(address) == Host;
        }

        return address.Equals(Address) && (!IPAddress.IsLoopback(Address) || fromHost == Host);
    }

    /// <summary>The element of the replicated set: "host|address|port|node|vm id" (the VM id last: it is the only free text).</summary>
    internal string Element => string.Join('|', Host, NetAddresses.Canonical(Address), Port.ToString(CultureInfo.InvariantCulture), Node, VmId);

    internal static VmListener? FromElement(string element)
    {
        var parts = element.Split('|', 5);
        return parts.Length == 5 && IPAddress.TryParse(parts[1], out var address)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new VmListener(parts[4], parts[3], parts[0], address, port)
            : null;
    }
}

/// <summary>
/// The listeners VMs of this actor system (a cluster: of every node) opened: what a VM's
/// <c>socket.connect</c> may reach besides the operator's <c>networking.connect</c> entries.
/// A VM's actor adds a listener when its process reports one (M net-listen) and removes it
/// when the listener closes, the process dies, the VM is reset or removed; the listeners of a
/// node removed from the cluster (its processes died with it) go too. In a cluster the set
/// is an ORSet in Akka.DistributedData (majority writes; a check reads the local replica, then
/// a majority when the listener is not there yet); in a local actor system it is in memory.
/// One per actor system.
/// </summary>
public sealed class VmListeners : IExtension
{
    private static readonly ORSetKey<string> Key = new("luaactors-vm-listeners");

    private readonly ConcurrentDictionary<string, VmListener>? _local;
    private readonly IActorRef? _replicator;
    private readonly Akka.Cluster.Cluster? _cluster;
    private readonly TimeSpan _timeout;

    public VmListeners(ExtendedActorSystem system)
    {
        _timeout = system.Settings.Config.GetTimeSpan("luaactors.cluster.registry-timeout", TimeSpan.FromSeconds(3));
        if (system.Provider is Akka.Cluster.ClusterActorRefProvider)
        {
            _cluster = Akka.Cluster.Cluster.Get(system);
            _replicator = DistributedData.Get(system).Replicator;
            Host = _cluster.SelfAddress.Host ?? "";
            Node = _cluster.SelfAddress.ToString();
            system.SystemActorOf(Props.Create(() => new RemovedNodeSweeper(this)), "luaactors-listener-sweeper");
        }
        else
        {
            _local = new ConcurrentDictionary<string, VmListener>(StringComparer.Ordinal);
            Host = "";
            Node = system.Provider.DefaultAddress.ToString();
        }
    }

    /// <summary>This node's host: loopback listeners are shared between nodes with the same host only.</summary>
    public string Host { get; }

    /// <summary>This node's address, recorded with each listener opened here.</summary>
    public string Node { get; }

    public static VmListeners Get(ActorSystem system) => system.WithExtension<VmListeners, VmListenersProvider>();

    public async Task AddAsync(VmListener listener)
    {
        if (_local is not null)
        {
            _local[listener.Element] = listener;
            return;
        }

        try
        {
            // A write that misses the majority is applied locally and spreads by gossip.
            await _replicator!.Ask<IUpdateResponse>(
                Dsl.Update(Key, ORSet<string>.Empty, new WriteMajority(_timeout), set => set.Add(_cluster!, listener.Element)),
                _timeout + _timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // Applied locally all the same.
        }
    }

    public Task RemoveAsync(VmListener listener) => RemoveWhereAsync(l => l == listener);

    /// <summary>Forgets the listeners of a node that left the cluster: its VM processes are gone.</summary>
    public Task RemoveNodeAsync(string node) => RemoveWhereAsync(l => l.Node == node);

    /// <summary>Whether a VM on this node that dials <paramref name="address"/>:<paramref name="port"/> reaches a VM listener.</summary>
    public async Task<bool> IsListenerAsync(IPAddress address, int port)
    {
        if (_local is not null)
        {
            return _local.Values.Any(l => l.ReachedBy(address, port, Host));
        }

        if (Found(await GetAsync(ReadLocal.Instance).ConfigureAwait(false), address, port))
        {
            return true;
        }

        // Opened on another node a moment ago: its write reached a majority, so a majority read sees it.
        return Found(await GetAsync(new ReadMajority(_timeout)).ConfigureAwait(false), address, port);
    }

    public async Task<IReadOnlyList<VmListener>> AllAsync() =>
        _local is not null
            ? _local.Values.ToList()
            : (await GetAsync(ReadLocal.Instance).ConfigureAwait(false)).Select(VmListener.FromElement).OfType<VmListener>().ToList();

    private bool Found(IEnumerable<string> elements, IPAddress address, int port) =>
        elements.Select(VmListener.FromElement).Any(l => l is not null && l.ReachedBy(address, port, Host));

    private async Task<IEnumerable<string>> GetAsync(IReadConsistency consistency)
    {
        try
        {
            var response = await _replicator!.Ask<IGetResponse>(Dsl.Get(Key, consistency), _timeout + _timeout).ConfigureAwait(false);
            return response is GetSuccess success ? success.Get(Key).Elements : [];
        }
        catch (AskTimeoutException)
        {
            return [];
        }
    }

    private async Task RemoveWhereAsync(Func<VmListener, bool> match)
    {
        if (_local is not null)
        {
            foreach (var (element, listener) in _local)
            {
                if (match(listener))
                {
                    _local.TryRemove(element, out _);
                }
            }

            return;
        }

        try
        {
            await _replicator!.Ask<IUpdateResponse>(
                Dsl.Update(Key, ORSet<string>.Empty, new WriteMajority(_timeout), set =>
                {
                    foreach (var element in set.Elements)
                    {
                        if (VmListener.FromElement(element) is { } listener && match(listener))
                        {
                            set = set.Remove(_cluster!, element);
                        }
                    }

                    return set;
                }),
                _timeout + _timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // Applied locally all the same; gossip spreads it.
        }
    }
}

/// <summary>Sweeps the listeners of every node removed from the cluster out of the registry (any node may: removes commute).</summary>
internal sealed class RemovedNodeSweeper : ReceiveActor
{
    public RemovedNodeSweeper(VmListeners listeners)
    {
        Receive<Akka.Cluster.ClusterEvent.MemberRemoved>(removed => _ = listeners.RemoveNodeAsync(removed.Member.Address.ToString()));
        Receive<Akka.Cluster.ClusterEvent.IMemberEvent>(_ => { });
        Receive<Akka.Cluster.ClusterEvent.CurrentClusterState>(_ => { });
    }

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(Akka.Cluster.ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}

public sealed class VmListenersProvider : ExtensionIdProvider<VmListeners>
{
    public override VmListeners CreateExtension(ExtendedActorSystem system) => new(system);
}
