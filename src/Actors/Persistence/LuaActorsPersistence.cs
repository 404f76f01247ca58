using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using LuaActors.Configuration;
using LuaActors.Vm;

namespace LuaActors.Persistence;

/// <summary>
/// This actor system's persistence settings (<c>luaactors.persistence</c>), and the spec store
/// they ask for: the <see cref="VmSpecJournal"/> with a <see cref="DurableVmSpecStore"/> over it
/// when persistence is on; null when off (the managers keep their in-memory store or the
/// replicated registry). <c>LuaActorsPersistence.Get(system)</c>.
/// </summary>
public sealed class LuaActorsPersistence : IExtension
{
    private const string JournalName = "vm-spec-journal";

    private readonly ActorSystem _system;

    internal LuaActorsPersistence(ActorSystem system)
    {
        _system = system;
        Settings = PersistenceSettings.From(system.Settings.Config.WithFallback(LuaActorsConfig.Default));
    }

    public PersistenceSettings Settings { get; }

    public static LuaActorsPersistence Get(ActorSystem system) => system.WithExtension<LuaActorsPersistence, Provider>();

    /// <summary>Whether the database answers (null), or why not: <c>/readyz</c> asks.</summary>
    public Task<string?> ProblemAsync(CancellationToken cancellationToken = default) =>
        DatabaseProbe.ProblemAsync(Settings, TimeSpan.FromSeconds(3), starting: false, cancellationToken);

    /// <summary>As <see cref="ProblemAsync"/>, at start: creates the SQLite data directory.</summary>
    internal Task<string?> StartProblemAsync() =>
        DatabaseProbe.ProblemAsync(Settings, TimeSpan.FromSeconds(10), starting: true);

    /// <summary>The durable spec store of a system with no cluster; null with persistence off.</summary>
    public IVmSpecStore? StartLocalStore() =>
        Settings.IsDurable ? new DurableVmSpecStore(_system.ActorOf(Supervised(), JournalName), Settings) : null;

    /// <summary>
    /// The durable spec store of a cluster node: the journal as a cluster singleton (the stream has
    /// one writer), asked through this node's proxy; null with persistence off.
    /// </summary>
    public IVmSpecStore? StartClusterStore()
    {
        if (!Settings.IsDurable)
        {
            return null;
        }

        _system.ActorOf(
            ClusterSingletonManager.Props(Supervised(), PoisonPill.Instance, ClusterSingletonManagerSettings.Create(_system)),
            JournalName);
        var proxy = _system.ActorOf(
            ClusterSingletonProxy.Props($"/user/{JournalName}", ClusterSingletonProxySettings.Create(_system)),
            JournalName + "-proxy");
        return new DurableVmSpecStore(proxy, Settings);
    }

    /// <summary>Started again after it stops (a lost database stops it), so it comes back with the database.</summary>
    private Props Supervised() =>
        VmSpecJournalGuard.Props(VmSpecJournal.Props(Settings.SnapshotEvery), Settings.RetryInterval, Settings.Describe());

    private sealed class Provider : ExtensionIdProvider<LuaActorsPersistence>
    {
        public override LuaActorsPersistence CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
