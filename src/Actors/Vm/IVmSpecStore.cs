using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// Where VM specs live, so a VM actor that starts with no message from a user (a supervisor
/// restart, a shard hand-over or rebalance) rebuilds itself. In memory for one actor system
/// (<see cref="InMemoryVmSpecStore"/>); the replicated <see cref="Cluster.VmRegistry"/> in a cluster.
/// </summary>
public interface IVmSpecStore
{
    /// <summary>The spec of <paramref name="vmId"/>, or null when no such VM is registered.</summary>
    Task<VmSpec?> FindAsync(string vmId);

    /// <summary>As <see cref="FindAsync"/>, but fails at once while the store is known to be unreachable (a create's duplicate check).</summary>
    Task<VmSpec?> FindNowAsync(string vmId) => FindAsync(vmId);

    /// <summary>Every registered spec by VM id.</summary>
    Task<IReadOnlyDictionary<string, VmSpec>> AllAsync();

    /// <summary>Adds or replaces a spec; true once it is stored as durably as the store can.</summary>
    Task<bool> PutAsync(VmSpec spec);

    /// <summary>Removes a spec, so the VM is not brought back.</summary>
    Task<bool> RemoveAsync(string vmId);
}
