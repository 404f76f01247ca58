using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;
using Xunit.Abstractions;
using static LuaActors.Tests.Persistence.RestartChecks;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// A database that goes away and comes back while the node runs (docs/guarantees.md, "Database
/// loss"): a real node on a private PostgreSQL server that the test stops (pg_ctl -m immediate)
/// and starts again. While it is down, creates, removes and storage writes fail with
/// storage-unavailable and write nothing; once it is back, the same node takes every kind of
/// write again by itself, with no restart (docs/configuration.md gives the bound).
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class DatabaseReturnTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_node_takes_writes_again_once_its_postgresql_comes_back()
    {
        await using var postgres = await PostgresServer.StartAsync(ownServer: true);
        if (postgres is null)
        {
            Console.Error.WriteLine("SKIPPED (no PostgreSQL): " + PostgresServer.NoServer);
        }

        Skip.If(postgres is null, PostgresServer.NoServer);
        await using var node = await DurableNode.StartAsync(DurableNode.FreePorts(),
            ["--persistence", "postgresql", "--connection-string", postgres!.ConnectionString]);
        await CreatedAsync(node, "kept", "n = 1");
        await node.EvalAsync("kept", "vm.storage.set('before', 1) return true");

        await postgres.StopServerAsync();
        // Several rounds: each failure must stay a quick typed answer, also once Akka's circuit
        // breakers have opened.
        for (var round = 0; round < 3; round++)
        {
            await StorageUnavailableAsync(await node.CreateAsync($"unwritten-{round}", "n = 2"));
            await StorageUnavailableAsync(await node.Client.DeleteAsync("vms/kept"));
            // An uncaught storage-unavailable fails the execute with its own kind: 503, try again later.
            await StorageUnavailableAsync(await node.Client.PostAsJsonAsync("vms/kept/execute", new { code = $"vm.storage.set('during', {round}) return true" }));
        }

        // The VM itself runs on.
        await AnswersAsync(node, "kept", "n", 1);

        await postgres.StartServerAgainAsync();
        var back = Stopwatch.StartNew();
        // No restart: creates, storage writes and removes work again by themselves.
        await Eventually.TrueAsync(async () =>
        {
            using var create = await node.CreateAsync("after", "n = 3");
            return create.StatusCode == HttpStatusCode.Created;
        }, TimeSpan.FromSeconds(30), "a create after the database came back", TimeSpan.FromMilliseconds(250));
        output.WriteLine($"first create accepted {back.Elapsed.TotalSeconds:F1} s after the database was back");
        await Eventually.TrueAsync(async () =>
            (await ExecuteAsync(node, "kept", "vm.storage.set('after', 2) return true")).GetProperty("ok").GetBoolean(),
            TimeSpan.FromSeconds(30), "a storage write after the database came back", TimeSpan.FromMilliseconds(250));
        output.WriteLine($"first storage write accepted {back.Elapsed.TotalSeconds:F1} s after the database was back");

        await AnswersAsync(node, "after", "n", 3);
        await RemovedAsync(node, "after");
        await NotFoundAsync(node, "after");

        // Nothing half-written while it was away: no VM from a failed create, no value of a failed write.
        await ListedAsync(node, "kept");
        var stored = await node.Client.GetFromJsonAsync<JsonElement>("vms/kept/storage");
        Assert.Equal("{\"after\":2,\"before\":1}", stored.GetRawText());
    }

    private static async Task StorageUnavailableAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
            Assert.Equal("storage-unavailable", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("kind").GetString());
        }
    }

    private static async Task<JsonElement> ExecuteAsync(DurableNode node, string vmId, string code)
    {
        using var response = await node.Client.PostAsJsonAsync($"vms/{vmId}/execute", new { code });
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
