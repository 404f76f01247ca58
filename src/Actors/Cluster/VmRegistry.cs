using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.Cluster;

/// <summary>
/// The cluster-wide VM registry: id → spec in one replicated LWW dictionary (Akka.DistributedData),
/// read and written with majority consistency. A VM entity that sharding starts anywhere — after
/// a rebalance, a hand-over or a node loss — rebuilds itself from its spec here.
/// </summary>
public sealed class VmRegistry : IVmSpecStore
{
    private static readonly LWWDictionaryKey<string, VmSpec> Key = new("luaactors-vm-specs");

    private readonly IActorRef _replicator;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly TimeSpan _timeout;

    public VmRegistry(ActorSystem system, TimeSpan timeout)
    {
        _replicator = DistributedData.Get(system).Replicator;
        _cluster = Akka.Cluster.Cluster.Get(system);
        _timeout = timeout;
    }

    /// <summary>Every registered spec (majority read; the local replica when no majority answers).</summary>
    public async Task<IReadOnlyDictionary<string, VmSpec>> AllAsync()
    {
        var response = await _replicator.Ask<IGetResponse>(Dsl.Get(Key, new ReadMajority(_timeout)), _timeout + _timeout).ConfigureAwait(false);
        if (response is GetFailure)
        {
            response = await _replicator.Ask<IGetResponse>(Dsl.Get(Key, ReadLocal.Instance), _timeout).ConfigureAwait(false);
        }

        return response is GetSuccess success
            ? success.Get(Key).Entries
            : new Dictionary<string, VmSpec>();
    }

    public async Task<VmSpec?> FindAsync(string vmId) =>
        (await AllAsync().ConfigureAwait(false)).TryGetValue(vmId, out var spec) ? spec : null;

    /// <summary>Adds or replaces a spec; true once a majority has it.</summary>
    public Task<bool> PutAsync(VmSpec spec) =>
        UpdateAsync(specs => specs.SetItem(_cluster, spec.VmId, spec));

    /// <summary>Removes a spec, so the VM is not brought back anywhere.</summary>
    public async Task<bool> RemoveAsync(string vmId)
    {
        // An observed-remove only removes what the local replica has seen: a majority read first
        // merges the spec into it, even when this node was not among the writers.
        await AllAsync().ConfigureAwait(false);
        return await UpdateAsync(specs => specs.Remove(_cluster, vmId)).ConfigureAwait(false);
    }

    private async Task<bool> UpdateAsync(Func<LWWDictionary<string, VmSpec>, LWWDictionary<string, VmSpec>> modify)
    {
        var response = await _replicator.Ask<IUpdateResponse>(
            Dsl.Update(Key, LWWDictionary<string, VmSpec>.Empty, new WriteMajority(_timeout), modify),
            _timeout + _timeout).ConfigureAwait(false);
        // A write that timed out on the majority is still applied locally and spreads by gossip.
        return response.IsSuccessful;
    }
}
