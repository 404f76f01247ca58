using System.Text.Json;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Storage;

/// <summary>
/// vm.storage against real lua5.4 processes and a real SQLite journal (docs/storage.md): values
/// round-trip, survive a kill -9 of the VM and a restart of the actor system, transactions are
/// all or nothing, limits and a failed journal give typed errors, removal deletes the data.
/// </summary>
public sealed class StorageTests : IDisposable
{
    // The first storage call of an actor system waits for the SQL plugins to start (seconds).
    private static readonly VmOptions Slow = new() { Limits = new VmLimits(TimeoutMs: 60_000) };

    private readonly SqliteJournal _journal = new();

    public void Dispose() => _journal.Dispose();

    private Task<VmManager> StartAsync(string extra = "") => ManagerFixture.StartAsync(extra + "\n" + _journal.Hocon);

    private const string WriteAll = """
        vm.storage.set("int", 42)
        vm.storage.set("float", 42.0)
        vm.storage.set("text", "héllo")
        vm.storage.set("bytes", "\0\255\1")
        vm.storage.set("flag", false)
        vm.storage.set("table", { list = { 1, 2.5, "x" }, nested = { deep = true } })
        """;

    private const string ReadAll = """
        local s = vm.storage
        local t = s.get("table")
        return math.type(s.get("int")), s.get("int"), math.type(s.get("float")), s.get("text"),
          s.get("bytes") == "\0\255\1", s.get("flag"), t.list[2], t.list[3], t.nested.deep, s.get("missing")
        """;

    private const string ReadAllExpected = "[\"integer\",42,\"float\",\"héllo\",true,false,2.5,\"x\",true,null]";

    [Fact]
    public async Task Values_round_trip_and_survive_a_kill_9_of_the_vm_process()
    {
        await using var manager = await StartAsync();
        var vm = await manager.CreateVmAsync("keeper", Slow);
        await vm.ExecuteAsync(WriteAll);
        Assert.Equal(ReadAllExpected, (await vm.ExecuteAsync(ReadAll)).ValuesJson);

        var pid = await LuaProcesses.PidAsync(vm);
        LuaProcesses.Kill9(pid);
        await LuaProcesses.NewPidAsync(vm, pid);

        Assert.Equal(ReadAllExpected, (await vm.ExecuteAsync(ReadAll)).ValuesJson);
        Assert.Equal("[[\"bytes\",\"flag\",\"float\",\"int\",\"table\",\"text\"]]", (await vm.ExecuteAsync("return vm.storage.keys()")).ValuesJson);
        Assert.Equal("[[\"flag\",\"float\"]]", (await vm.ExecuteAsync("return vm.storage.keys('fl')")).ValuesJson);
        Assert.Equal("[true,null]", (await vm.ExecuteAsync("return vm.storage.delete('int'), vm.storage.get('int')")).ValuesJson);
    }

    [Fact]
    public async Task Storage_survives_a_restart_of_the_actor_system_on_the_same_database()
    {
        await using (var first = await StartAsync())
        {
            var vm = await first.CreateVmAsync("durable", Slow);
            await vm.ExecuteAsync(WriteAll);
            // A crash of the whole system, not a removal: the VMs are not removed, so their storage stays.
            await first.System.Terminate();
        }

        await using var second = await StartAsync();
        var again = await second.CreateVmAsync("durable", Slow);
        Assert.Equal(ReadAllExpected, (await again.ExecuteAsync(ReadAll)).ValuesJson);
    }

    [Fact]
    public async Task A_transaction_is_one_write_and_writes_nothing_when_its_function_raises()
    {
        await using var manager = await StartAsync();
        var vm = await manager.CreateVmAsync("tx", Slow);
        var committed = await vm.ExecuteAsync("""
            vm.storage.set("balance.a", 100)
            return vm.storage.transaction(function(s)
              s.set("balance.a", s.get("balance.a") - 30)
              s.set("balance.b", 30)
              return s.get("balance.a"), vm.storage.get("balance.a")
            end)
            """);
        Assert.Equal("[70,100]", committed.ValuesJson); // inside: the buffer; outside: not yet written

        var failed = await Assert.ThrowsAsync<LuaException>(() => vm.ExecuteAsync("""
            vm.storage.transaction(function(s)
              s.set("balance.a", 0)
              s.delete("balance.b")
              error("insufficient funds")
            end)
            """));
        Assert.Contains("insufficient funds", failed.Message);
        Assert.Equal("[70,30]", (await vm.ExecuteAsync("return vm.storage.get('balance.a'), vm.storage.get('balance.b')")).ValuesJson);
    }

    [Fact]
    public async Task Kill_9_inside_a_transaction_writes_nothing_and_after_its_commit_everything()
    {
        await using var manager = await StartAsync();
        var vm = await manager.CreateVmAsync("tx-kill", Slow);
        await vm.ExecuteAsync("vm.storage.set('warm', 1)");

        // Killed before the function returns: none of its writes exist.
        var pid = await LuaProcesses.PidAsync(vm);
        var inside = vm.ExecuteAsync("""
            vm.storage.transaction(function(s)
              for i = 1, 50 do s.set("before." .. i, i) end
              vm.send("$host", "inside")
              while true do end
            end)
            """, new ExecuteOptions(TimeoutMs: 60_000));
        Assert.Equal("inside", (await vm.ReceiveFromVmAsync(TimeSpan.FromSeconds(30)))?.GetString());
        LuaProcesses.Kill9(pid);
        await Assert.ThrowsAsync<VmCrashedException>(() => inside);
        Assert.Empty(await vm.GetStorageAsync("before."));
        // (An empty Lua table is encoded {}, docs/protocol.md §7.)
        Assert.Equal("[{}]", (await vm.ExecuteAsync("return vm.storage.keys('before.')")).ValuesJson);

        // Killed after the commit was acknowledged: all of it exists.
        pid = await LuaProcesses.PidAsync(vm);
        var after = vm.ExecuteAsync("""
            vm.storage.transaction(function(s)
              for i = 1, 50 do s.set("after." .. i, i) end
            end)
            vm.send("$host", "committed")
            while true do end
            """, new ExecuteOptions(TimeoutMs: 60_000));
        Assert.Equal("committed", (await vm.ReceiveFromVmAsync(TimeSpan.FromSeconds(30)))?.GetString());
        LuaProcesses.Kill9(pid);
        await Assert.ThrowsAsync<VmCrashedException>(() => after);
        var stored = await vm.GetStorageAsync("after.");
        Assert.Equal(50, stored.Count);
        Assert.Equal(50, stored["after.50"].GetInt64());
    }

    [Fact]
    public async Task Writes_over_a_limit_raise_storage_limit_and_write_nothing()
    {
        await using var manager = await StartAsync("""
            luaactors.storage { max-value-size = 100, max-keys = 3, max-key-size = 10 }
            """);
        var vm = await manager.CreateVmAsync("limited", Slow);
        var tooBig = await Assert.ThrowsAsync<StorageLimitException>(() => vm.ExecuteAsync("vm.storage.set('big', string.rep('x', 200))"));
        Assert.Equal(ErrorKind.StorageLimit, tooBig.Kind);
        Assert.Contains("storage-limit: ", tooBig.Message);
        Assert.Contains("max-value-size", tooBig.Message);

        var caught = await vm.ExecuteAsync("""
            local ok, err = pcall(vm.storage.set, "a-very-long-key", 1)
            return ok, err.kind == "storage-limit"
            """);
        Assert.Equal("[false,true]", caught.ValuesJson);

        var tooMany = await Assert.ThrowsAsync<StorageLimitException>(() => vm.ExecuteAsync("""
            vm.storage.transaction(function(s)
              for i = 1, 4 do s.set("k" .. i, i) end
            end)
            """));
        Assert.Contains("max-keys", tooMany.Message);
        Assert.Empty(await vm.GetStorageAsync());
    }

    [Fact]
    public async Task Removing_the_vm_deletes_its_storage()
    {
        await using var manager = await StartAsync("luaactors.storage.snapshot-every = 3");
        var vm = await manager.CreateVmAsync("gone", Slow);
        // Enough writes for snapshots and events both.
        await vm.ExecuteAsync("for i = 1, 10 do vm.storage.set('k' .. i, i) end");
        Assert.Equal(10, (await vm.GetStorageAsync()).Count);
        await vm.RemoveAsync();
        await Assert.ThrowsAsync<VmNotFoundException>(() => manager.GetStorageAsync("gone"));

        var again = await manager.CreateVmAsync("gone", Slow);
        Assert.Empty(await again.GetStorageAsync());
        Assert.Equal("[null,{}]", (await again.ExecuteAsync("return vm.storage.get('k1'), vm.storage.keys()")).ValuesJson);
    }

    [Fact]
    public async Task GetStorageAsync_returns_the_values_in_the_vm_encoding()
    {
        await using var manager = await StartAsync();
        var vm = await manager.CreateVmAsync("export", Slow);
        await vm.ExecuteAsync(WriteAll);
        var all = await manager.GetStorageAsync("export");
        Assert.Equal(["bytes", "flag", "float", "int", "table", "text"], all.Keys);
        Assert.Equal("42", all["int"].GetRawText());
        Assert.Equal("42.0", all["float"].GetRawText());
        Assert.Equal("héllo", all["text"].GetString());
        Assert.Equal("bytes", all["bytes"].GetProperty("$type").GetString());
        Assert.Equal(JsonValueKind.False, all["flag"].ValueKind);
        Assert.Equal("[1,2.5,\"x\"]", all["table"].GetProperty("list").GetRawText());
        Assert.Equal(["table", "text"], (await vm.GetStorageAsync("t")).Keys);
    }

    [Fact]
    public async Task A_journal_that_cannot_be_reached_gives_storage_unavailable()
    {
        // A recovery that fails may take the plugins' 30 s recovery timeout: the read waits longer.
        await using var manager = await ManagerFixture.StartAsync("luaactors.api.ask-timeout = 120s\n" + SqliteJournal.Unreachable());
        var vm = await manager.CreateVmAsync("no-db", Slow);
        // Uncaught, it fails the request with its own kind (a caller retries later; not a bug in the script).
        var failed = await Assert.ThrowsAsync<VmUnavailableException>(() => vm.ExecuteAsync("vm.storage.set('k', 1)"));
        Assert.Equal(ErrorKind.StorageUnavailable, failed.Kind);
        Assert.Contains("storage-unavailable: ", failed.Message);
        // Caught, it is an error object the script can test.
        Assert.Equal("storage-unavailable", await vm.ExecuteAsync<string>("local ok, e = pcall(vm.storage.get, 'k') return e.kind"));
        var read = await Assert.ThrowsAsync<VmUnavailableException>(() => vm.GetStorageAsync());
        Assert.Equal(ErrorKind.StorageUnavailable, read.Kind);
        // The VM itself goes on.
        Assert.Equal(2, await vm.ExecuteAsync<long>("return 1 + 1"));
    }
}
