using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LuaActors.Host;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// /healthz and /readyz (docs/api.md, "Health"): alive as long as the actor system runs; ready
/// only once the node is Up and the shard coordinator knows its region; no token needed.
/// </summary>
public sealed class HealthTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_is_alive_at_once_and_ready_once_it_has_joined()
    {
        // Its seed is a port nobody listens on: the node runs, but is not in a cluster yet.
        var errors = new StringWriter();
        await using var node = await NodeHost.StartAsync(new NodeOptions
        {
            Port = 0, Http = "127.0.0.1:0", Config = TestConfig.Hocon, Errors = errors,
            Seeds = [$"akka.tcp://{NodeSettings.SystemName}@127.0.0.1:{FreePort()}"],
        });
        using var client = new HttpClient { BaseAddress = node.HttpUrl };

        var (alive, aliveBody) = await GetAsync(client, "healthz");
        Assert.Equal(HttpStatusCode.OK, alive);
        Assert.Equal("alive", aliveBody.GetProperty("status").GetString());
        var (notReady, notReadyBody) = await GetAsync(client, "readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady);
        Assert.Equal("not-ready", notReadyBody.GetProperty("status").GetString());
        Assert.Contains("not up", notReadyBody.GetProperty("problems")[0].GetString());

        // Joining itself makes it a cluster of one: ready once its region is registered.
        Akka.Cluster.Cluster.Get(node.Manager.System).Join(node.Address);
        await Eventually.TrueAsync(async () => (await GetAsync(client, "readyz")).Status == HttpStatusCode.OK, Wait, "the node became ready");
        Assert.Equal("ready", (await GetAsync(client, "readyz")).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Probes_need_no_token_but_the_api_still_does()
    {
        await using var node = await NodeHost.StartAsync(new NodeOptions
        {
            Port = 0, Http = "127.0.0.1:0", Config = TestConfig.Hocon, Token = "probe-test-token", Errors = new StringWriter(),
        });
        using var client = new HttpClient { BaseAddress = node.HttpUrl };
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "healthz")).Status);
        await Eventually.TrueAsync(async () => (await GetAsync(client, "readyz")).Status == HttpStatusCode.OK, Wait, "the node became ready");
        using var vms = await client.GetAsync("vms");
        Assert.Equal(HttpStatusCode.Unauthorized, vms.StatusCode);
        // The OpenAPI document tells the API's shape only: no token either.
        using var openApi = await client.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
