using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// What the restart tests do to a VM's links, topics and StartServer listeners over HTTP, and how
/// they check that those work after a restart (docs/guarantees.md, "What survives what").
/// </summary>
internal static class WiringChecks
{
    public static async Task CreatedWithNetworkingAsync(DurableNode node, string vmId)
    {
        using var response = await node.Client.PostAsJsonAsync("vms", new { id = vmId, initScript = "n = 0", networking = true });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create {vmId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>POST /vms/{id}/peers: both ways, as LinkAsync does.</summary>
    public static async Task LinkedAsync(DurableNode node, string vmId, string peer)
    {
        using var response = await node.Client.PostAsJsonAsync($"vms/{vmId}/peers", new { peer });
        Assert.True(response.IsSuccessStatusCode, $"link {vmId} {peer}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task UnlinkedAsync(DurableNode node, string vmId, string peer)
    {
        using var response = await node.Client.DeleteAsync($"vms/{vmId}/peers/{peer}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The VM's own vm.subscribe / vm.unsubscribe calls.</summary>
    public static async Task SubscribedAsync(DurableNode node, string vmId, string topic) =>
        await node.EvalAsync(vmId, $"vm.subscribe('{topic}') return true");

    public static async Task UnsubscribedAsync(DurableNode node, string vmId, string topic) =>
        await node.EvalAsync(vmId, $"vm.unsubscribe('{topic}') return true");

    /// <summary>POST /vms/{id}/servers (StartServer): the port it took.</summary>
    public static async Task<int> ServerStartedAsync(DurableNode node, string vmId)
    {
        using var response = await node.Client.PostAsJsonAsync($"vms/{vmId}/servers", new { port = 0 });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"server in {vmId}: {(int)response.StatusCode} {body}");
        return body.GetProperty("port").GetInt32();
    }

    public static async Task ServerStoppedAsync(DurableNode node, string vmId, int port)
    {
        using var response = await node.Client.DeleteAsync($"vms/{vmId}/servers/{port}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The VM has no listener on <paramref name="port"/> (its own answer: DELETE finds none).</summary>
    public static async Task NoServerAsync(DurableNode node, string vmId, int port)
    {
        using var response = await node.Client.DeleteAsync($"vms/{vmId}/servers/{port}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>The VM's info lists exactly these peers and topics.</summary>
    public static async Task WiredAsync(DurableNode node, string vmId, string[] peers, string[] topics)
    {
        var info = await node.Client.GetFromJsonAsync<JsonElement>($"vms/{vmId}");
        Assert.Equal(peers, info.GetProperty("peers").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal(topics, info.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!));
    }

    /// <summary><paramref name="from"/>'s vm.broadcast reaches <paramref name="peer"/>'s vm.receive.</summary>
    public static async Task BroadcastReachesAsync(DurableNode node, string from, string peer)
    {
        var value = "hello " + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(1, (await node.EvalAsync(from, $"return vm.broadcast('{value}')")).GetInt32());
        await ReceivesAsync(node, peer, value);
    }

    /// <summary>
    /// A publication on <paramref name="topic"/> reaches <paramref name="vmId"/>. Published again
    /// until it does: after a restart the subscription is made again without anyone waiting for it.
    /// </summary>
    public static async Task PublicationReachesAsync(DurableNode node, string topic, string vmId)
    {
        var value = "news " + Guid.NewGuid().ToString("N")[..6];
        await Eventually.TrueAsync(async () =>
        {
            using (var published = await node.Client.PostAsJsonAsync($"topics/{topic}/messages", new { value }))
            {
                Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
            }

            var received = await node.EvalAsync(vmId, "local v = vm.receive(1) return v");
            return received.ValueKind == JsonValueKind.String && received.GetString() == value;
        }, TimeSpan.FromSeconds(60), $"'{topic}' reaching {vmId}");
    }

    /// <summary>A TCP connection to the VM's listener on <paramref name="port"/> is accepted (once it is open again).</summary>
    public static Task AcceptsAsync(int port) =>
        Eventually.TrueAsync(async () =>
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), $"a connection accepted on port {port}");

    private static async Task ReceivesAsync(DurableNode node, string vmId, string value)
    {
        var received = await node.EvalAsync(vmId, "local v = vm.receive(5) return v");
        Assert.Equal(JsonValueKind.String, received.ValueKind);
        Assert.Equal(value, received.GetString());
    }
}
