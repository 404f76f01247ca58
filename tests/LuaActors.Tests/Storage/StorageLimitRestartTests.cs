using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Persistence;
using LuaActors.Tests.Support;
using static LuaActors.Tests.Persistence.RestartChecks;

namespace LuaActors.Tests.Storage;

/// <summary>
/// A VM's own storage limits over HTTP on a real node persisting to SQLite: POST /vms takes them,
/// refuses more than the node allows (400 invalid-spec), an execute over them answers "ok": false
/// with kind storage-limit, and they come back with the VM after a restart (they are in its spec).
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class StorageLimitRestartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "luaactors-storlim-" + Guid.NewGuid().ToString("N")[..8]);

    private string[] Flags => ["--persistence", "sqlite", "--data-dir", _dataDir];

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_vms_storage_limits_are_in_its_spec_and_survive_a_restart()
    {
        var ports = DurableNode.FreePorts();
        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            using (var created = await node.Client.PostAsJsonAsync("vms", new { id = "capped", limits = new { storage = new { maxKeys = 2 } } }))
            {
                Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            }

            // vm-maximum.max-keys is 100000 by default (hocon/luaactors.conf).
            using (var greedy = await node.Client.PostAsJsonAsync("vms", new { id = "greedy", limits = new { storage = new { maxKeys = 100_001 } } }))
            {
                await ApiAssert.ErrorAsync(greedy, HttpStatusCode.BadRequest, "invalid-spec");
            }

            await NotFoundAsync(node, "greedy");
            Assert.True((await node.EvalAsync("capped", "vm.storage.set('a', 1) vm.storage.set('b', 2) return true")).GetBoolean());
            await RefusedThirdKeyAsync(node);
            await node.StopAsync();
        }

        await using (var node = await DurableNode.StartAsync(ports, Flags))
        {
            await CameBackByThemselvesAsync([node], 1);
            Assert.Equal("{\"a\":1,\"b\":2}", await node.Client.GetStringAsync("vms/capped/storage"));
            await RefusedThirdKeyAsync(node);
        }
    }

    private static async Task RefusedThirdKeyAsync(DurableNode node)
    {
        using var response = await node.Client.PostAsJsonAsync("vms/capped/execute", new { code = "vm.storage.set('c', 3)", timeoutMs = 60_000 });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(body.GetProperty("ok").GetBoolean(), body.GetRawText());
        Assert.Equal("storage-limit", body.GetProperty("error").GetProperty("kind").GetString());
        Assert.Contains("max-keys (2)", body.GetProperty("error").GetProperty("message").GetString());
    }
}
