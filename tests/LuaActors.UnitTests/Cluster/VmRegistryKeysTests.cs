using LuaActors.Cluster;

namespace LuaActors.UnitTests.Cluster;

public sealed class VmRegistryKeysTests
{
    [Fact]
    public void Ten_thousand_ids_spread_over_every_key_so_each_holds_a_small_share()
    {
        // The scale benchmark's ids: a create's registry work is the size of its key's dictionary.
        var perKey = Enumerable.Range(1, 10_000)
            .GroupBy(n => VmRegistryKeys.KeyId("scale-" + n))
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(VmRegistryKeys.Count, perKey.Count);
        Assert.All(perKey.Values, count => Assert.InRange(count, 10, 100));
    }

    [Fact]
    public void The_key_of_an_id_is_fixed_across_processes_and_builds()
    {
        // Every node must find a spec where another node wrote it: pinned values, so a change to
        // the hash (or a per-process hash such as string.GetHashCode) fails here.
        Assert.Equal("luaactors-vm-specs-197", VmRegistryKeys.KeyId(""));
        Assert.Equal("luaactors-vm-specs-045", VmRegistryKeys.KeyId("worker-1"));
        Assert.Equal("luaactors-vm-specs-079", VmRegistryKeys.KeyId("scale-10000"));
        Assert.All(Enumerable.Range(1, 1000).Select(n => "vm-" + n), id => Assert.Equal(PinnedBucket(id), VmRegistryKeys.Bucket(id)));
    }

    [Fact]
    public void Bucket_names_are_in_range_and_refuse_others()
    {
        Assert.Equal("luaactors-vm-specs-000", VmRegistryKeys.Name(0));
        Assert.Equal("luaactors-vm-specs-255", VmRegistryKeys.Name(VmRegistryKeys.Count - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => VmRegistryKeys.Name(VmRegistryKeys.Count));
        Assert.Throws<ArgumentOutOfRangeException>(() => VmRegistryKeys.Name(-1));
    }

    /// <summary>FNV-1a, 32 bits, over UTF-16 code units, written out independently of the code under test.</summary>
    private static int PinnedBucket(string id)
    {
        uint hash = 0x811C9DC5;
        foreach (var c in id)
        {
            hash ^= c;
            hash *= 0x01000193;
        }

        return (int)(hash % 256);
    }
}
