using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;
using static LuaActors.Tests.Persistence.RestartChecks;
using static LuaActors.Tests.Persistence.WiringChecks;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// One real node process persisting to SQLite (the default of `luaactors node`): what was created
/// comes back after SIGTERM and after SIGKILL, init scripts replayed, with no client call;
/// removed VMs stay removed; a lost database fails creates and removes with storage-unavailable
/// and writes nothing; an unreachable database stops the node from starting.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class SqliteRestartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "luaactors-sqlite-" + Guid.NewGuid().ToString("N")[..8]);

    private string[] Flags => ["--persistence", "sqlite", "--data-dir", _dataDir];

    [Fact]
    public async Task Vms_come_back_after_sigterm_and_sigkill_and_removed_ones_stay_removed()
    {
        var ports = DurableNode.FreePorts();
        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CreatedAsync(node, "counter", "n = 41");
            await GroupCreatedAsync(node, "pool", 2, "role = 'worker'");
            await CreatedAsync(node, "gone", "n = 0");
            await node.EvalAsync("gone", "vm.storage.set('left', 1) return true");
            await RemovedAsync(node, "gone");
            // Runtime state is not desired state: the init script's value comes back; storage is kept.
            Assert.Equal(42, (await node.EvalAsync("counter", "n = n + 1 vm.storage.set('best', n) return n")).GetInt64());
            await node.EvalAsync("counter", "vm.storage.transaction(function(s) s.set('name', 'counter'); s.set('tags', { 'a', 'b' }) end) return true");
            await node.StopAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CameBackByThemselvesAsync([node], 3);
            await AnswersAsync(node, "counter", "n", 41);
            await AnswersAsync(node, "pool-1", "role", "worker");
            await AnswersAsync(node, "pool-2", "role", "worker");
            await NotFoundAsync(node, "gone");
            await ListedAsync(node, "counter", "pool-1", "pool-2");
            await AnswersAsync(node, "counter", "vm.storage.get('best')", 42);
            await AnswersAsync(node, "counter", "vm.storage.get('name') .. vm.storage.get('tags')[2]", "counterb");

            // Acknowledged, then SIGKILL: nothing runs after the kill, the writes were already durable.
            await CreatedAsync(node, "late", "n = 5");
            await RemovedAsync(node, "pool-2");
            await node.EvalAsync("late", "vm.storage.set('n', 6) return true");
            await node.EvalAsync("counter", "vm.storage.delete('name') return true");
            await node.KillAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CameBackByThemselvesAsync([node], 3);
            await AnswersAsync(node, "counter", "n", 41);
            await AnswersAsync(node, "late", "n", 5);
            await AnswersAsync(node, "pool-1", "role", "worker");
            await NotFoundAsync(node, "pool-2");
            await ListedAsync(node, "counter", "late", "pool-1");
            await AnswersAsync(node, "late", "vm.storage.get('n')", 6);
            await AnswersAsync(node, "counter", "vm.storage.get('best')", 42);
            await AnswersAsync(node, "counter", "tostring(vm.storage.get('name'))", "nil");

            // A removed VM's storage went with it: the id created again starts empty.
            await CreatedAsync(node, "gone", "n = 0");
            await AnswersAsync(node, "gone", "tostring(vm.storage.get('left'))", "nil");
        }
    }

    [Fact]
    public async Task Links_subscriptions_and_servers_come_back_after_sigterm_and_sigkill_and_undone_ones_stay_undone()
    {
        var ports = DurableNode.FreePorts();
        int first, dropped, second;
        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CreatedWithNetworkingAsync(node, "hub");
            await CreatedAsync(node, "spoke", "n = 0");
            await CreatedAsync(node, "cut", "n = 0");
            await LinkedAsync(node, "hub", "spoke");
            await LinkedAsync(node, "hub", "cut");
            await UnlinkedAsync(node, "hub", "cut");
            await SubscribedAsync(node, "spoke", "news");
            await SubscribedAsync(node, "spoke", "old");
            await UnsubscribedAsync(node, "spoke", "old");
            first = await ServerStartedAsync(node, "hub");
            dropped = await ServerStartedAsync(node, "hub");
            await ServerStoppedAsync(node, "hub", dropped);
            await node.StopAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CameBackByThemselvesAsync([node], 3);
            await WiredAsync(node, "hub", ["spoke"], []);
            await WiredAsync(node, "spoke", ["hub"], ["news"]);
            await WiredAsync(node, "cut", [], []);
            await BroadcastReachesAsync(node, "hub", "spoke");
            await PublicationReachesAsync(node, "news", "spoke");
            await AcceptsAsync(first);
            await NoServerAsync(node, "hub", dropped);

            // Acknowledged, then SIGKILL: the changes were durable when answered.
            await UnlinkedAsync(node, "hub", "spoke");
            await LinkedAsync(node, "hub", "cut");
            await UnsubscribedAsync(node, "spoke", "news");
            await SubscribedAsync(node, "spoke", "sports");
            await ServerStoppedAsync(node, "hub", first);
            second = await ServerStartedAsync(node, "hub");
            await node.KillAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CameBackByThemselvesAsync([node], 3);
            await WiredAsync(node, "hub", ["cut"], []);
            await WiredAsync(node, "spoke", [], ["sports"]);
            await WiredAsync(node, "cut", ["hub"], []);
            await BroadcastReachesAsync(node, "hub", "cut");
            await PublicationReachesAsync(node, "sports", "spoke");
            await AcceptsAsync(second);
            if (second != first)
            {
                await NoServerAsync(node, "hub", first);
            }

            // Removed with the VM: a VM created again with the id starts with nothing.
            await RemovedAsync(node, "spoke");
            await CreatedAsync(node, "spoke", "n = 0");
            await WiredAsync(node, "spoke", [], []);
        }
    }

    [Fact]
    public async Task A_lost_database_fails_creates_and_removes_with_storage_unavailable_and_writes_nothing()
    {
        var ports = DurableNode.FreePorts();
        var moved = _dataDir + "-away";
        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CreatedAsync(node, "kept", "n = 1");
            await CreatedAsync(node, "peer", "n = 1");

            // The database file's directory goes away: SQLite cannot open it any more.
            Directory.Move(_dataDir, moved);
            using (var create = await node.CreateAsync("unwritten", "n = 2"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, create.StatusCode);
                Assert.Equal("storage-unavailable", (await create.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("kind").GetString());
            }

            using (var remove = await node.Client.DeleteAsync("vms/kept"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, remove.StatusCode);
                Assert.Equal("storage-unavailable", (await remove.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("kind").GetString());
            }

            using (var link = await node.Client.PostAsJsonAsync("vms/kept/peers", new { peer = "peer" }))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, link.StatusCode);
                Assert.Equal("storage-unavailable", (await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("kind").GetString());
            }

            await WiredAsync(node, "kept", [], []);

            // The remove that failed left the VM running (a VM not running yet waits for the
            // database to read its spec: "unwritten" is checked once it is back).
            await AnswersAsync(node, "kept", "n", 1);
            using (var ready = await node.Client.GetAsync("readyz"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
                Assert.Contains("persistence", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // The database is back: the same node takes writes again, with no restart
            // (docs/configuration.md, "Persistence").
            Directory.Move(moved, _dataDir);
            await Eventually.TrueAsync(async () =>
            {
                using var create = await node.CreateAsync("later", "n = 3");
                return create.StatusCode == HttpStatusCode.Created;
            }, TimeSpan.FromSeconds(30), "a create after the database came back", TimeSpan.FromMilliseconds(250));

            // Nothing half-written: the failed remove left the VM, the failed create left nothing.
            await AnswersAsync(node, "kept", "n", 1);
            await NotFoundAsync(node, "unwritten");
            await AnswersAsync(node, "later", "n", 3);
            await ListedAsync(node, "kept", "later", "peer");
            await node.StopAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            // And what was written after the database came back is in it.
            await AnswersAsync(node, "kept", "n", 1);
            await ListedAsync(node, "kept", "later", "peer");
            await WiredAsync(node, "kept", [], []);
            await AnswersAsync(node, "later", "n", 3);
            await NotFoundAsync(node, "unwritten");
        }
    }

    [Fact]
    public async Task An_unreachable_database_stops_the_node_from_starting_with_the_reason()
    {
        var closedPort = DurableNode.FreePorts().Port;
        await using var node = await DurableNode.StartAsync(DurableNode.FreePorts(),
            ["--connection-string", $"Host=127.0.0.1;Port={closedPort};Database=luaactors;Username=luaactors"], waitUp: false);
        Assert.Equal(1, await node.ExitCodeAsync());
        var lines = node.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains("persistence", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{closedPort}", line, StringComparison.Ordinal);
        Assert.Contains("cannot be reached", line, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var dir in new[] { _dataDir, _dataDir + "-away" })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
