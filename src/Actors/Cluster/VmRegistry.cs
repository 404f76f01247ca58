using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.Cluster;

/// <summary>
/// The cluster-wide VM registry: id → spec in replicated LWW dictionaries (Akka.DistributedData),
/// read and written with majority consistency. A VM entity that sharding starts anywhere — after
/// a rebalance, a hand-over or a node loss — rebuilds itself from its spec here.
/// </summary>
/// <remarks>
/// The specs are spread over <see cref="VmRegistryKeys.Count"/> keys (<see cref="VmRegistryKeys"/>):
/// a create touches one small dictionary, so its cost does not grow with the number of VMs. A
/// lookup reads one entry (never the whole entry map); only a listing reads every key.
/// </remarks>
public sealed class VmRegistry : IVmSpecStore
{
    private static readonly LWWDictionaryKey<string, VmSpec>[] Keys =
        Enumerable.Range(0, VmRegistryKeys.Count).Select(b => new LWWDictionaryKey<string, VmSpec>(VmRegistryKeys.Name(b))).ToArray();

    private readonly IActorRef _replicator;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly TimeSpan _timeout;

    public VmRegistry(ActorSystem system, TimeSpan timeout)
    {
        _replicator = DistributedData.Get(system).Replicator;
        _cluster = Akka.Cluster.Cluster.Get(system);
        _timeout = timeout;
    }

    /// <summary>Every registered spec (majority reads of every key; a key's local replica when no majority answers).</summary>
    public async Task<IReadOnlyDictionary<string, VmSpec>> AllAsync()
    {
        var buckets = await Task.WhenAll(Keys.Select(ReadAsync)).ConfigureAwait(false);
        var all = new Dictionary<string, VmSpec>(StringComparer.Ordinal);
        foreach (var bucket in buckets)
        {
            foreach (var (vmId, spec) in bucket ?? LWWDictionary<string, VmSpec>.Empty)
            {
                all[vmId] = spec;
            }
        }

        return all;
    }

    public async Task<VmSpec?> FindAsync(string vmId) =>
        (await ReadAsync(KeyOf(vmId)).ConfigureAwait(false)) is { } bucket && bucket.TryGetValue(vmId, out var spec) ? spec : null;

    /// <summary>Adds or replaces a spec; true once a majority has it.</summary>
    public Task<bool> PutAsync(VmSpec spec) =>
        UpdateAsync(KeyOf(spec.VmId), specs => specs.SetItem(_cluster, spec.VmId, spec));

    /// <summary>Removes a spec, so the VM is not brought back anywhere.</summary>
    public async Task<bool> RemoveAsync(string vmId)
    {
        // An observed-remove only removes what the local replica has seen: a majority read first
        // merges the spec into it, even when this node was not among the writers.
        var key = KeyOf(vmId);
        await ReadAsync(key).ConfigureAwait(false);
        return await UpdateAsync(key, specs => specs.Remove(_cluster, vmId)).ConfigureAwait(false);
    }

    private static LWWDictionaryKey<string, VmSpec> KeyOf(string vmId) => Keys[VmRegistryKeys.Bucket(vmId)];

    /// <summary>One key's dictionary (majority read; the local replica when no majority answers); null when never written.</summary>
    private async Task<LWWDictionary<string, VmSpec>?> ReadAsync(LWWDictionaryKey<string, VmSpec> key)
    {
        var response = await _replicator.Ask<IGetResponse>(Dsl.Get(key, new ReadMajority(_timeout)), _timeout + _timeout).ConfigureAwait(false);
        if (response is GetFailure)
        {
            response = await _replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), _timeout).ConfigureAwait(false);
        }

        return response is GetSuccess success ? success.Get(key) : null;
    }

    private async Task<bool> UpdateAsync(
        LWWDictionaryKey<string, VmSpec> key, Func<LWWDictionary<string, VmSpec>, LWWDictionary<string, VmSpec>> modify)
    {
        var response = await _replicator.Ask<IUpdateResponse>(
            Dsl.Update(key, LWWDictionary<string, VmSpec>.Empty, new WriteMajority(_timeout), modify),
            _timeout + _timeout).ConfigureAwait(false);
        // A write that timed out on the majority is still applied locally and spreads by gossip.
        return response.IsSuccessful;
    }
}
