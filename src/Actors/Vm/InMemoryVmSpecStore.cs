using System.Collections.Concurrent;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>The specs of one actor system with no cluster: gone with the process.</summary>
public sealed class InMemoryVmSpecStore : IVmSpecStore
{
    private readonly ConcurrentDictionary<string, VmSpec> _specs = new(StringComparer.Ordinal);

    public Task<VmSpec?> FindAsync(string vmId) => Task.FromResult(_specs.TryGetValue(vmId, out var spec) ? spec : null);

    public Task<IReadOnlyDictionary<string, VmSpec>> AllAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, VmSpec>>(new Dictionary<string, VmSpec>(_specs, StringComparer.Ordinal));

    public Task<bool> PutAsync(VmSpec spec)
    {
        _specs[spec.VmId] = spec;
        return Task.FromResult(true);
    }

    public Task<bool> RemoveAsync(string vmId) => Task.FromResult(_specs.TryRemove(vmId, out _));
}
