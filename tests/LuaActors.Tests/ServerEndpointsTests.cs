using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>POST and DELETE /vms/{id}/servers (StartServer and StopServer) over a real node's HTTP API.</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class ServerEndpointsTests(LoopbackTokenNodeFixture fixture) : IClassFixture<LoopbackTokenNodeFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task A_listener_opens_takes_connections_and_closes_over_http()
    {
        var id = await fixture.NewVmAsync("http-srv", new { networking = true });
        int port;
        using (var started = await Client.PostAsJsonAsync($"vms/{id}/servers", new { port = 0 }))
        {
            var body = await started.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(started.StatusCode == HttpStatusCode.Created, body.GetRawText());
            Assert.Equal(id, body.GetProperty("vm").GetString());
            port = body.GetProperty("port").GetInt32();
        }

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
        }

        using (var stopped = await Client.DeleteAsync($"vms/{id}/servers/{port}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
        }

        await ApiAssert.ErrorAsync(await Client.DeleteAsync($"vms/{id}/servers/{port}"), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync($"vms/{id}/servers", new { port = 70000 }), HttpStatusCode.BadRequest, "invalid-request");
        await ApiAssert.ErrorAsync(await Client.PostAsync($"vms/{id}/servers", ApiAssert.Json("{}")), HttpStatusCode.BadRequest, "invalid-request");

        // Networking off: the VM refuses, saying why.
        var closed = await fixture.NewVmAsync("http-srv");
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync($"vms/{closed}/servers", new { port = 0 }), HttpStatusCode.BadRequest, "invalid-request");
    }
}
