using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// VM storage across the loss of a node process (docs/storage.md, docs/guarantees.md): three real
/// nodes sharing one PostgreSQL database; the node running some VMs gets SIGKILL while a client
/// keeps writing to one of them; the VMs come back on the survivors by themselves, with every
/// write that was acknowledged (and at most the one in flight besides), and take writes again.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class PostgresStorageFailoverTests
{
    [SkippableFact]
    public async Task Vms_of_a_killed_node_come_back_on_a_survivor_with_every_acknowledged_write()
    {
        await using var postgres = await PostgresServer.StartAsync();
        if (postgres is null)
        {
            Console.Error.WriteLine("SKIPPED (no PostgreSQL): " + PostgresServer.NoServer);
        }

        Skip.If(postgres is null, PostgresServer.NoServer);
        string[] flags = ["--persistence", "postgresql", "--connection-string", postgres!.ConnectionString];
        var ports = Enumerable.Range(0, 3).Select(_ => DurableNode.FreePorts()).ToArray();
        int[] seeds = [ports[0].Port, ports[1].Port];
        var nodes = await Task.WhenAll(ports.Select(p => DurableNode.StartAsync(p, flags, seeds)));
        try
        {
            var ids = Enumerable.Range(1, 6).Select(i => $"kept-{i}").ToList();
            foreach (var id in ids)
            {
                await RestartChecks.CreatedAsync(nodes[0], id, "");
                await nodes[0].EvalAsync(id, """
                    vm.storage.set("id", vm.id())
                    vm.storage.transaction(function(s) s.set("t", { "x", 2 }); s.set("n", 0) end)
                    return true
                    """);
            }

            var victim = DurableNode.Seed(ports[2].Port);
            var onVictim = new List<string>();
            foreach (var id in ids)
            {
                if (await NodeOfAsync(nodes[0], id) == victim)
                {
                    onVictim.Add(id);
                }
            }

            Assert.NotEmpty(onVictim);

            // A client writes n = 1, 2, 3 … to one of them, each acknowledged before the next, through
            // a survivor, until the kill fails a write.
            var writer = onVictim[0];
            var acknowledged = 0L;
            var writing = Task.Run(async () =>
            {
                for (var n = 1L; ; n++)
                {
                    using var response = await nodes[0].Client.PostAsJsonAsync($"vms/{writer}/execute", new { code = $"vm.storage.set('n', {n}) return true" });
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (!response.IsSuccessStatusCode || !body.GetProperty("ok").GetBoolean())
                    {
                        return;
                    }

                    Interlocked.Exchange(ref acknowledged, n);
                }
            });
            await Eventually.TrueAsync(() => Interlocked.Read(ref acknowledged) >= 5, TimeSpan.FromSeconds(60), "the first writes acknowledged");
            await nodes[2].KillAsync();
            await writing;
            var lastAcknowledged = Interlocked.Read(ref acknowledged);

            var survivors = new[] { DurableNode.Seed(ports[0].Port), DurableNode.Seed(ports[1].Port) };
            foreach (var id in onVictim)
            {
                // Nobody re-creates them: sharding restarts the remembered entities on a survivor.
                var read = await TestCluster.EventuallyAsync(
                    () => nodes[1].EvalAsync(id, "return { vm.storage.get('id'), vm.storage.get('t')[1], vm.storage.get('t')[2], vm.storage.get('n') }"),
                    TimeSpan.FromSeconds(120));
                Assert.Equal(id, read[0].GetString());
                Assert.Equal("x", read[1].GetString());
                Assert.Equal(2, read[2].GetInt64());
                var n = read[3].GetInt64();
                if (id == writer)
                {
                    // Every acknowledged write is there; the write the kill cut short may be too.
                    Assert.InRange(n, lastAcknowledged, lastAcknowledged + 1);
                }
                else
                {
                    Assert.Equal(0, n);
                }

                Assert.Contains(await NodeOfAsync(nodes[0], id), survivors);
                await nodes[0].EvalAsync(id, "vm.storage.set('n', vm.storage.get('n') + 100) return true");
                using var stored = await nodes[1].Client.GetAsync($"vms/{id}/storage");
                var entries = await stored.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(n + 100, entries.GetProperty("n").GetInt64());
            }
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    private static async Task<string> NodeOfAsync(DurableNode via, string vmId) =>
        (await via.Client.GetFromJsonAsync<JsonElement>($"vms/{vmId}")).GetProperty("node").GetString()!;
}
