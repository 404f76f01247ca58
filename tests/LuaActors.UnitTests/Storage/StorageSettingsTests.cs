using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Storage;

namespace LuaActors.UnitTests.Storage;

/// <summary>luaactors.storage: the defaults a VM gets, the maximum a VM's spec may ask for, the limits one VM runs with.</summary>
public sealed class StorageSettingsTests
{
    private static StorageSettings Read(string hocon) =>
        StorageSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(LuaActorsConfig.Default));

    [Fact]
    public void The_shipped_defaults_are_within_the_shipped_maximum()
    {
        var settings = Read("");
        Assert.Equal(new StorageLimits(1024, 256 * 1024, 10_000, 16L << 20), settings.Limits);
        Assert.Equal(new StorageLimits(1024, 1L << 20, 100_000, 64L << 20), settings.VmMaximum);
    }

    [Fact]
    public void A_vm_runs_with_its_own_limits_else_the_defaults_and_never_above_the_maximum()
    {
        var settings = Read("luaactors.storage { max-keys = 10, max-value-size = 500, vm-maximum.max-keys = 20, vm-maximum.max-value-size = 1000 }");
        Assert.Equal(settings.Limits, settings.LimitsFor(null));
        Assert.Equal(settings.Limits with { MaxKeys = 3 }, settings.LimitsFor(new VmStorageLimits(MaxKeys: 3)));
        Assert.Equal(settings.Limits with { MaxKeys = 20, MaxValueBytes = 1000 }, settings.LimitsFor(new VmStorageLimits(MaxValueBytes: 5000, MaxKeys: 50)));
        Assert.Equal(settings.Limits with { MaxTotalBytes = 100 }, settings.ForVm(new VmStorageLimits(MaxTotalBytes: 100)).Limits);
        Assert.Equal(settings.SnapshotEvery, settings.ForVm(new VmStorageLimits(MaxKeys: 1)).SnapshotEvery);
    }

    [Fact]
    public void Requests_over_the_maximum_or_not_positive_are_named()
    {
        var settings = Read("luaactors.storage.vm-maximum.max-keys = 20000");
        Assert.Null(settings.Problem(null));
        Assert.Null(settings.Problem(new VmStorageLimits()));
        Assert.Null(settings.Problem(new VmStorageLimits(MaxKeys: 20_000)));
        Assert.Equal("Storage.MaxKeys 20001 is over this node's luaactors.storage.vm-maximum.max-keys (20000)",
            settings.Problem(new VmStorageLimits(MaxKeys: 20_001)));
        Assert.Equal("Storage.MaxValueBytes must be positive (got -1)", settings.Problem(new VmStorageLimits(MaxValueBytes: -1)));
        Assert.Equal("Storage.MaxTotalBytes must be positive (got 0)", settings.Problem(new VmStorageLimits(MaxTotalBytes: 0)));
    }

    [Theory]
    [InlineData("luaactors.storage.vm-maximum.max-keys = 5000")] // below the default max-keys (10000)
    [InlineData("luaactors.storage.vm-maximum.max-value-size = 1KiB")]
    [InlineData("luaactors.storage.vm-maximum.max-total-size = 0")]
    [InlineData("luaactors.storage.max-keys = 0")]
    public void A_maximum_below_the_defaults_or_a_limit_that_is_not_positive_stops_the_start(string hocon)
    {
        Assert.Throws<ConfigurationException>(() => Read(hocon));
    }
}
