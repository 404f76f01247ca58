using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// `luaactors node --discovery config`: real node processes given the same list of management
/// endpoints and no seed find each other through Cluster Bootstrap and form one cluster.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class DiscoveryTests
{
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Three_nodes_with_config_discovery_and_no_seed_form_one_cluster_that_serves_a_vm_from_every_node()
    {
        var ports = FreeLoopbackPorts(3);
        var endpoints = string.Join(",", ports.Select(port => $"127.0.0.1:{port}"));
        // All at once: none of them forms a cluster before it has found the other two.
        var starting = ports.Select(port => NodeProcess.StartAsync(new Dictionary<string, string?>(), args:
            ["--discovery", "config", "--discovery-endpoints", endpoints, "--management-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            upWithin: TimeSpan.FromSeconds(90))).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        var nodes = starting.Select(t => t.Result).ToList();
        try
        {
            // One cluster: every node sees the same three members Up and the same leader.
            await Eventually.TrueAsync(async () =>
            {
                var views = await Task.WhenAll(nodes.Select(node => node.Client.GetFromJsonAsync<JsonElement>("cluster")));
                return views.All(view => view.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up") == 3)
                    && views.Select(view => view.GetProperty("leader").GetString()).Distinct().Count() == 1;
            }, TimeSpan.FromSeconds(60), "all three nodes Up in one cluster, seen from each");

            var cli = await LuaActorsCli.RunAsync(nodes[2].Client.BaseAddress!, null, ["cluster"]);
            LuaActorsCli.AssertOk(cli);
            Assert.Equal(3, cli.StandardOutput.Split('\n').Count(line => line.Contains("127.0.0.1", StringComparison.Ordinal) && line.Contains("up", StringComparison.Ordinal)));

            // A VM created through one node keeps its state when reached through the others.
            using (var created = await nodes[0].Client.PostAsJsonAsync("vms", new { id = "discovered" }))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }

            await ExecuteAsync(nodes[0], "n = 41");
            foreach (var node in nodes.Skip(1))
            {
                var answer = await ExecuteAsync(node, "n = n + 1 return n");
                Assert.True(answer.GetProperty("ok").GetBoolean(), answer.ToString());
            }

            Assert.Equal(43, (await ExecuteAsync(nodes[0], "return n")).GetProperty("values")[0].GetInt32());
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Discovery_beside_a_static_seed_exits_2_naming_the_flag()
    {
        var result = await LuaActorsCli.RunAsync(new Uri("http://127.0.0.1:1"), null,
            ["node", "--port", "0", "--http", "127.0.0.1:0", "--discovery", "config", "--discovery-endpoints", "127.0.0.1:8558",
             "--seed", "akka.tcp://luaactors@127.0.0.1:4053"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--discovery config finds the seeds itself: drop the static seeds (--seed)", result.StandardError);
    }

    private static async Task<JsonElement> ExecuteAsync(NodeProcess node, string code)
    {
        using var response = await node.Client.PostAsJsonAsync("vms/discovered/execute", new { code });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body;
    }

    /// <summary>Ports the kernel hands out now (outside the VMs' listen-ports range), held together so they differ.</summary>
    private static int[] FreeLoopbackPorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
