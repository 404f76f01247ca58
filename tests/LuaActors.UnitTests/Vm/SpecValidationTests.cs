using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Storage;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>A spec's rules, checked once by the manager; the limits a valid spec runs with; the in-memory store.</summary>
public sealed class SpecValidationTests
{
    private static readonly VmSettings Settings = VmSettings.From(LuaActorsConfig.Default);
    private static readonly SizeLimits Sizes = new(MaxCodeSize: 1000, MaxResultSize: 4000, MaxOutputSize: 2000, MaxMessageSize: 1 << 20);
    private static readonly StorageSettings Storage = StorageSettings.From(LuaActorsConfig.Default);

    private static VmSpec Spec(VmLimits limits, string id = "vm1", string type = "basic") =>
        new(id, type, new Dictionary<string, string>(), limits);

    [Theory]
    [InlineData(0, null, null, null, "TimeoutMs must be positive (got 0)")]
    [InlineData(null, 0, null, null, "MemoryMb must be between 1 and 1048576 (got 0)")]
    [InlineData(null, 1048577, null, null, "MemoryMb must be between 1 and 1048576 (got 1048577)")]
    [InlineData(null, null, -1, null, "OutputCapBytes must not be negative (got -1)")]
    [InlineData(null, null, null, 0, "InboxCapacity must be positive (got 0)")]
    public void Bad_limits_are_named(int? timeoutMs, int? memoryMb, int? outputCap, int? inbox, string problem) =>
        Assert.Equal(problem, VmSpecRules.Problem(Spec(new VmLimits(timeoutMs, memoryMb, outputCap, inbox))));

    [Fact]
    public void A_bad_id_or_an_empty_type_is_refused_and_a_good_spec_passes()
    {
        Assert.NotNull(VmSpecRules.Problem(Spec(VmLimits.Default, id: "bad id")));
        Assert.Equal("the VM type is empty", VmSpecRules.Problem(Spec(VmLimits.Default, type: " ")));
        Assert.Null(VmSpecRules.Problem(Spec(new VmLimits(1, 1, 0, 1))));
        Assert.Null(VmSpecRules.Problem(VmSpec.Basic("vm1") with { Limits = null! }));
    }

    [Fact]
    public void A_create_is_refused_as_an_invalid_spec_or_as_too_large_before_anything_is_asked()
    {
        var invalid = VmCreation.Check(new CreateVm(Spec(new VmLimits(TimeoutMs: -5))), Sizes, Storage);
        Assert.Equal(ErrorKind.InvalidSpec, invalid?.Kind);
        Assert.Equal("vm1", invalid?.VmId);

        var tooLarge = VmCreation.Check(new CreateVm(VmSpec.Basic("vm1", new string('x', 1001))), Sizes, Storage);
        Assert.Equal(ErrorKind.TooLarge, tooLarge?.Kind);

        Assert.Null(VmCreation.Check(new CreateVm(VmSpec.Basic("vm1", "x = 1")), Sizes, Storage));
    }

    [Fact]
    public void A_create_asking_for_more_storage_than_the_node_allows_is_an_invalid_spec()
    {
        // hocon/luaactors.conf: vm-maximum is 1MiB per value, 100000 keys, 64MiB in all.
        VmSpec WithStorage(VmStorageLimits storage) => Spec(new VmLimits(Storage: storage));

        var tooMany = VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(MaxKeys: 100_001))), Sizes, Storage);
        Assert.Equal(ErrorKind.InvalidSpec, tooMany?.Kind);
        Assert.Contains("luaactors.storage.vm-maximum.max-keys (100000)", tooMany?.Message);

        var tooBig = VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(MaxValueBytes: (1 << 20) + 1))), Sizes, Storage);
        Assert.Contains("vm-maximum.max-value-size", tooBig?.Message);
        var tooMuch = VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(MaxTotalBytes: (64L << 20) + 1))), Sizes, Storage);
        Assert.Contains("vm-maximum.max-total-size", tooMuch?.Message);
        Assert.Equal("Storage.MaxKeys must be positive (got 0)",
            VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(MaxKeys: 0))), Sizes, Storage)?.Message);

        // Up to the maximum, and less than the defaults, may be asked.
        Assert.Null(VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(1 << 20, 100_000, 64L << 20))), Sizes, Storage));
        Assert.Null(VmCreation.Check(new CreateVm(WithStorage(new VmStorageLimits(MaxKeys: 1))), Sizes, Storage));
    }

    [Fact]
    public void A_vm_runs_with_its_own_limits_else_the_configured_ones_and_its_output_never_above_the_ceiling()
    {
        var own = VmRunLimits.Of(Spec(new VmLimits(250, 16, 1500, 3)), Settings, Sizes);
        Assert.Equal(new VmRunLimits(250, 16L << 20, 1500, 3), own);

        var defaults = VmRunLimits.Of(VmSpec.Basic("vm1"), Settings, Sizes);
        Assert.Equal((int)Settings.DefaultTimeout.TotalMilliseconds, defaults.TimeoutMs);
        Assert.Equal(Settings.MemoryLimitBytes, defaults.MemoryBytes);
        Assert.Equal(Math.Min(Settings.OutputCapBytes, 2000), defaults.OutputCap);
        Assert.Equal(Settings.InboxCapacity, defaults.InboxCapacity);

        Assert.Equal(2000, VmRunLimits.Of(Spec(new VmLimits(OutputCapBytes: 1 << 30)), Settings, Sizes).OutputCap);
    }

    [Fact]
    public void An_executes_memory_limit_is_its_own_but_never_above_the_vms()
    {
        var limits = new VmRunLimits(100, 64L << 20, 0, 1);
        Assert.Equal(0, limits.ExecuteMemoryKb(null));
        Assert.Equal(8 * 1024, limits.ExecuteMemoryKb(8));
        Assert.Equal(64 * 1024, limits.ExecuteMemoryKb(512));
    }

    [Fact]
    public async Task The_in_memory_store_finds_lists_replaces_and_removes_specs()
    {
        var store = new InMemoryVmSpecStore();
        Assert.Null(await store.FindAsync("vm1"));
        await store.PutAsync(VmSpec.Basic("vm1"));
        await store.PutAsync(VmSpec.Basic("vm2"));
        await store.PutAsync(VmSpec.Basic("vm1", "x = 1"));

        Assert.Equal("x = 1", (await store.FindAsync("vm1"))?.InitScript);
        Assert.Equal(["vm1", "vm2"], (await store.AllAsync()).Keys.Order(StringComparer.Ordinal));
        Assert.True(await store.RemoveAsync("vm1"));
        Assert.False(await store.RemoveAsync("vm1"));
        Assert.Null(await store.FindAsync("vm1"));
    }
}
