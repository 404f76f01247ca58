using LuaActors.Messages;
using LuaActors.Storage;

namespace LuaActors.UnitTests.Storage;

/// <summary>A VM's storage state: what a write changes, and the limits a write is checked against as a whole.</summary>
public sealed class StorageStateTests
{
    private static readonly StorageLimits Limits = new(MaxKeyBytes: 8, MaxValueBytes: 10, MaxKeys: 3, MaxTotalBytes: 30);

    [Fact]
    public void Writes_apply_in_order_and_bytes_are_counted()
    {
        var state = new StorageState();
        state.Apply([new StorageChange("a", "1"), new StorageChange("bb", "\"x\""), new StorageChange("a", "22")]);
        Assert.Equal("22", state.Get("a"));
        Assert.Equal(2, state.Count);
        Assert.Equal(1 + 2 + 2 + 3, state.TotalBytes);
        state.Apply([new StorageChange("a", null)]);
        Assert.Null(state.Get("a"));
        Assert.Equal(2 + 3, state.TotalBytes);
        Assert.Equal(["bb"], state.Keys(""));
    }

    [Fact]
    public void Keys_and_entries_select_by_prefix_in_ordinal_order()
    {
        var state = new StorageState();
        state.Apply([new StorageChange("u.2", "2"), new StorageChange("u.1", "1"), new StorageChange("v", "3")]);
        Assert.Equal(["u.1", "u.2"], state.Keys("u."));
        Assert.Equal(["u.1", "u.2"], state.Entries("u.").Keys);
    }

    [Fact]
    public void A_snapshot_restores_the_same_state()
    {
        var state = new StorageState();
        state.Apply([new StorageChange("a", "1"), new StorageChange("b", "[1,2.5]")]);
        var restored = new StorageState();
        restored.Restore(state.Snapshot());
        Assert.Equal(state.Entries(""), restored.Entries(""));
        Assert.Equal(state.TotalBytes, restored.TotalBytes);
    }

    [Theory]
    [InlineData("long-key!", "1", "max-key-size")]
    [InlineData("k", "\"0123456789\"", "max-value-size")]
    public void One_key_or_value_over_its_limit_is_refused(string key, string json, string limit)
    {
        Assert.Contains(limit, new StorageState().Check([new StorageChange(key, json)], Limits));
    }

    [Fact]
    public void Key_count_and_total_size_are_checked_after_the_whole_write()
    {
        var state = new StorageState();
        state.Apply([new StorageChange("a", "1"), new StorageChange("b", "2"), new StorageChange("c", "3")]);
        Assert.Contains("max-keys", state.Check([new StorageChange("d", "4")], Limits));
        // A delete in the same write makes room: the write is judged as a whole.
        Assert.Null(state.Check([new StorageChange("a", null), new StorageChange("d", "4")], Limits));
        // Overwriting a key does not add one.
        Assert.Null(state.Check([new StorageChange("a", "5")], Limits));
        Assert.Contains("max-total-size", state.Check([new StorageChange("a", "\"12345678\""), new StorageChange("b", "\"12345678\""), new StorageChange("c", "\"1234567\"")], Limits));
    }

    [Fact]
    public void A_vm_over_lowered_limits_may_still_write_what_does_not_make_it_worse()
    {
        var state = new StorageState();
        state.Apply([new StorageChange("a", "1"), new StorageChange("b", "2"), new StorageChange("c", "3"), new StorageChange("d", "4")]);
        var lowered = Limits with { MaxKeys = 2, MaxTotalBytes = 6 };

        // Deleting, or replacing a value with one no bigger, is allowed while over the limits.
        Assert.Null(state.Check([new StorageChange("a", null)], lowered));
        Assert.Null(state.Check([new StorageChange("b", "5")], lowered));
        // Anything that adds a key or bytes is not.
        Assert.Contains("max-keys", state.Check([new StorageChange("e", "5")], lowered));
        Assert.Contains("max-total-size", state.Check([new StorageChange("b", "55")], lowered));
    }
}
