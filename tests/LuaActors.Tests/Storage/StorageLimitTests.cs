using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Storage;

/// <summary>
/// Storage limits on real lua5.4 processes and a real SQLite journal (docs/storage.md, "Limits",
/// "Errors"): a write over a limit is ErrorKind.StorageLimit in C# and an error object in Lua; a
/// VM's spec may name its own limits, up to the node's vm-maximum, and a create asking for more is
/// an invalid spec.
/// </summary>
public sealed class StorageLimitTests : IDisposable
{
    private readonly SqliteJournal _journal = new();

    public void Dispose() => _journal.Dispose();

    private Task<VmManager> StartAsync(string extra) => ManagerFixture.StartAsync(extra + "\n" + _journal.Hocon);

    // The first storage call of an actor system waits for the SQL plugins to start (seconds).
    private static VmOptions With(VmStorageLimits? storage = null) =>
        new() { Limits = new VmLimits(TimeoutMs: 60_000, Storage: storage) };

    [Fact]
    public async Task An_uncaught_storage_limit_is_its_own_kind_and_pcall_gives_an_object_a_script_can_test()
    {
        await using var manager = await StartAsync("luaactors.storage.max-value-size = 100");
        var vm = await manager.CreateVmAsync("typed", With());
        await vm.ExecuteAsync("x = 5 vm.storage.set('small', 1)");

        var refused = await Assert.ThrowsAsync<StorageLimitException>(() => vm.ExecuteAsync("""
            print("before")
            vm.storage.set('big', string.rep('x', 200))
            """));
        Assert.Equal(ErrorKind.StorageLimit, refused.Kind);
        Assert.StartsWith("storage-limit: the value of key 'big' is 202 bytes encoded, over the VM's storage limit max-value-size (100 bytes)", refused.Message);
        // A Lua error: with the output and the user's frames, and the VM keeps its state.
        Assert.IsAssignableFrom<LuaException>(refused);
        Assert.Equal("before\n", refused.Output);
        Assert.Contains("in main chunk", refused.Traceback);
        Assert.Equal(5, await vm.ExecuteAsync<long>("return x"));

        var caught = await vm.ExecuteAsync("""
            local ok, err = pcall(vm.storage.set, "big", string.rep("x", 200))
            return ok, type(err), err.kind, err.message:find("max-value-size", 1, true) ~= nil, tostring(err):sub(1, 15)
            """);
        Assert.Equal("[false,\"table\",\"storage-limit\",true,\"storage-limit: \"]", caught.ValuesJson);

        // A transaction over a limit is refused whole, with the same kind.
        var tx = await Assert.ThrowsAsync<StorageLimitException>(() => vm.ExecuteAsync("""
            vm.storage.transaction(function(s) s.set("a", 1) s.set("b", string.rep("y", 150)) end)
            """));
        Assert.Contains("max-value-size", tx.Message);
        Assert.Equal(["small"], (await vm.GetStorageAsync()).Keys);
    }

    [Fact]
    public async Task A_vm_runs_with_the_storage_limits_of_its_spec_up_to_the_nodes_maximum()
    {
        await using var manager = await StartAsync("luaactors.storage { max-keys = 3, vm-maximum.max-keys = 5 }");
        var tight = await manager.CreateVmAsync("tight", With(new VmStorageLimits(MaxKeys: 1)));
        var roomy = await manager.CreateVmAsync("roomy", With(new VmStorageLimits(MaxKeys: 5)));
        var plain = await manager.CreateVmAsync("plain", With());

        async Task<string> RefusedAtAsync(LuaVm vm, int allowed)
        {
            await vm.ExecuteAsync($"for i = 1, {allowed} do vm.storage.set('k' .. i, i) end");
            var refused = await Assert.ThrowsAsync<StorageLimitException>(() => vm.ExecuteAsync($"vm.storage.set('k{allowed + 1}', 0)"));
            Assert.Equal(allowed, (await vm.GetStorageAsync()).Count);
            return refused.Message;
        }

        Assert.Contains("2 keys, over the VM's storage limit max-keys (1)", await RefusedAtAsync(tight, 1));
        Assert.Contains("6 keys, over the VM's storage limit max-keys (5)", await RefusedAtAsync(roomy, 5));
        Assert.Contains("4 keys, over the VM's storage limit max-keys (3)", await RefusedAtAsync(plain, 3));

        // More than the node allows: refused before anything is created.
        var greedy = await Assert.ThrowsAsync<InvalidVmSpecException>(() => manager.CreateVmAsync("greedy", With(new VmStorageLimits(MaxKeys: 6))));
        Assert.Equal(ErrorKind.InvalidSpec, greedy.Kind);
        Assert.Contains("Storage.MaxKeys 6 is over this node's luaactors.storage.vm-maximum.max-keys (5)", greedy.Message);
        await Assert.ThrowsAsync<VmNotFoundException>(() => manager.GetVmInfoAsync("greedy"));
        var zero = await Assert.ThrowsAsync<InvalidVmSpecException>(() => manager.CreateVmAsync("zero", With(new VmStorageLimits(MaxTotalBytes: 0))));
        Assert.Contains("Storage.MaxTotalBytes must be positive", zero.Message);
    }
}
