using System.Globalization;

namespace LuaActors.Cluster;

/// <summary>
/// Which replicated key of the <see cref="VmRegistry"/> holds a VM's spec. The registry is split
/// into <see cref="Count"/> LWW dictionaries by a stable hash of the VM id: the replicator merges
/// a key's whole dictionary on every write, and a read builds its whole entry map, so one key
/// for all VMs made each create cost O(VMs) (O(n²) to fill a node). Every node must map an id to
/// the same key: the hash is FNV-1a over the id's UTF-16 code units, never string.GetHashCode
/// (randomised per process), and the count is fixed here, not configured per node.
/// </summary>
public static class VmRegistryKeys
{
    /// <summary>
    /// Buckets: 10,000 VMs are ~40 per key, and a listing reads this many keys. Changing it moves
    /// every spec to another key; a cluster must not mix builds that differ here.
    /// </summary>
    public const int Count = 256;

    public const string Prefix = "luaactors-vm-specs-";

    /// <summary>The bucket of <paramref name="vmId"/>, 0 ≤ bucket &lt; <see cref="Count"/>.</summary>
    public static int Bucket(string vmId)
    {
        ArgumentNullException.ThrowIfNull(vmId);
        var hash = 2166136261u;
        foreach (var c in vmId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Count);
    }

    /// <summary>The name of the replicated key that holds <paramref name="vmId"/>'s spec.</summary>
    public static string KeyId(string vmId) => Name(Bucket(vmId));

    /// <summary>The name of bucket <paramref name="bucket"/>'s replicated key.</summary>
    public static string Name(int bucket) =>
        bucket is >= 0 and < Count
            ? Prefix + bucket.ToString("D3", CultureInfo.InvariantCulture)
            : throw new ArgumentOutOfRangeException(nameof(bucket), bucket, $"a registry bucket is 0 to {Count - 1}");
}
