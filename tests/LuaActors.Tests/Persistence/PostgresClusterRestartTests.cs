using LuaActors.Tests.Support;
using static LuaActors.Tests.Persistence.RestartChecks;
using static LuaActors.Tests.Persistence.WiringChecks;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// Three real node processes sharing one PostgreSQL database: what was created comes back after
/// every node got SIGTERM, and again after every node got SIGKILL, init scripts replayed with no
/// client call, on whichever nodes sharding places them; removed VMs stay removed; links,
/// subscriptions and StartServer listeners work again, undone ones stay undone. Skipped only
/// when no PostgreSQL can be had (<see cref="PostgresServer"/>), saying so; .ci/run fails then.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class PostgresClusterRestartTests
{
    [SkippableFact]
    public async Task Three_nodes_bring_every_vm_back_after_sigterm_and_sigkill_of_all()
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

        async Task<DurableNode[]> StartAllAsync() =>
            await Task.WhenAll(ports.Select(p => DurableNode.StartAsync(p, flags, seeds)));

        int server;
        var nodes = await StartAllAsync();
        try
        {
            await CreatedAsync(nodes[0], "alpha", "n = 1");
            await CreatedAsync(nodes[1], "beta", "n = 2");
            await GroupCreatedAsync(nodes[2], "crew", 3, "role = 'crew'");
            await CreatedAsync(nodes[0], "gone", "n = 0");
            await nodes[2].EvalAsync("gone", "vm.storage.set('left', 1) return true");
            await RemovedAsync(nodes[1], "gone");
            await nodes[1].EvalAsync("alpha", "vm.storage.set('score', 41) vm.storage.transaction(function(s) s.set('name', 'alpha'); s.set('score', 42) end) return true");
            await CreatedWithNetworkingAsync(nodes[0], "hub");
            await LinkedAsync(nodes[1], "hub", "alpha");
            await LinkedAsync(nodes[2], "hub", "beta");
            await UnlinkedAsync(nodes[0], "hub", "beta");
            await SubscribedAsync(nodes[1], "beta", "news");
            await SubscribedAsync(nodes[2], "beta", "old");
            await UnsubscribedAsync(nodes[0], "beta", "old");
            server = await ServerStartedAsync(nodes[2], "hub");
            await Task.WhenAll(nodes.Select(n => n.StopAsync()));
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }

        nodes = await StartAllAsync();
        try
        {
            await CameBackByThemselvesAsync(nodes, 6);
            await AnswersAsync(nodes[2], "alpha", "n", 1);
            await AnswersAsync(nodes[0], "beta", "n", 2);
            foreach (var member in new[] { "crew-1", "crew-2", "crew-3" })
            {
                await AnswersAsync(nodes[1], member, "role", "crew");
            }

            await NotFoundAsync(nodes[0], "gone");
            await ListedAsync(nodes[1], "alpha", "beta", "crew-1", "crew-2", "crew-3", "hub");
            await WiredAsync(nodes[0], "hub", ["alpha"], []);
            await WiredAsync(nodes[1], "beta", [], ["news"]);
            await BroadcastReachesAsync(nodes[2], "hub", "alpha");
            await PublicationReachesAsync(nodes[0], "news", "beta");
            await AcceptsAsync(server);
            await AnswersAsync(nodes[2], "alpha", "vm.storage.get('score')", 42);
            await AnswersAsync(nodes[0], "alpha", "vm.storage.get('name')", "alpha");

            // Acknowledged, then SIGKILL of every node.
            await CreatedAsync(nodes[2], "gamma", "n = 3");
            await nodes[0].EvalAsync("gamma", "vm.storage.set('n', 7) return true");
            await nodes[1].EvalAsync("alpha", "vm.storage.delete('name') return true");
            await RemovedAsync(nodes[0], "crew-3");
            await UnlinkedAsync(nodes[1], "hub", "alpha");
            await LinkedAsync(nodes[2], "hub", "beta");
            await UnsubscribedAsync(nodes[0], "beta", "news");
            await SubscribedAsync(nodes[1], "beta", "sports");
            await Task.WhenAll(nodes.Select(n => n.KillAsync()));
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }

        nodes = await StartAllAsync();
        try
        {
            await CameBackByThemselvesAsync(nodes, 6);
            await AnswersAsync(nodes[0], "gamma", "n", 3);
            await AnswersAsync(nodes[1], "alpha", "n", 1);
            await AnswersAsync(nodes[2], "crew-1", "role", "crew");
            await NotFoundAsync(nodes[2], "crew-3");
            await ListedAsync(nodes[0], "alpha", "beta", "crew-1", "crew-2", "gamma", "hub");
            await WiredAsync(nodes[1], "hub", ["beta"], []);
            await WiredAsync(nodes[2], "beta", ["hub"], ["sports"]);
            await WiredAsync(nodes[0], "alpha", [], []);
            await BroadcastReachesAsync(nodes[1], "hub", "beta");
            await PublicationReachesAsync(nodes[2], "sports", "beta");
            await AcceptsAsync(server);
            await AnswersAsync(nodes[1], "gamma", "vm.storage.get('n')", 7);
            await AnswersAsync(nodes[2], "alpha", "vm.storage.get('score')", 42);
            await AnswersAsync(nodes[0], "alpha", "tostring(vm.storage.get('name'))", "nil");

            // A removed VM's storage went with it: the id created again starts empty.
            await CreatedAsync(nodes[1], "gone", "n = 0");
            await AnswersAsync(nodes[2], "gone", "tostring(vm.storage.get('left'))", "nil");
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    [SkippableFact]
    public async Task A_node_refuses_to_start_when_its_postgresql_database_does_not_exist()
    {
        await using var postgres = await PostgresServer.StartAsync();
        Skip.If(postgres is null, PostgresServer.NoServer);
        var missing = new Npgsql.NpgsqlConnectionStringBuilder(postgres!.ConnectionString) { Database = "luaactors_no_such_database" };
        await using var node = await DurableNode.StartAsync(DurableNode.FreePorts(),
            ["--connection-string", missing.ConnectionString], waitUp: false);
        Assert.Equal(1, await node.ExitCodeAsync());
        var line = Assert.Single(node.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("persistence", line, StringComparison.Ordinal);
        Assert.Contains("luaactors_no_such_database", line, StringComparison.Ordinal);
    }
}
