using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The attach WebSocket (GET /vms/{id}/attach) of a real in-process node, with real VMs.</summary>
public sealed class AttachTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private Task<string> CreateVmAsync(object? fields = null) => fixture.NewVmAsync("attach", fields);

    private Task<SessionSocketClient> AttachAsync(string id) => SessionSocketClient.ConnectAsync(fixture.Url, id);

    private async Task<IReadOnlyList<string>> SessionsAsync(string id) =>
        (await fixture.Client.GetFromJsonAsync<JsonElement>($"vms/{id}")).GetProperty("sessions")
            .EnumerateArray().Select(s => s.GetString()!).ToList();

    private static string? ErrorKind(JsonElement evaluated) =>
        evaluated.GetProperty("error") is { ValueKind: JsonValueKind.Object } error ? error.GetProperty("kind").GetString() : null;

    [Fact]
    public async Task Two_clients_see_each_others_input_tagged_with_its_session()
    {
        var id = await CreateVmAsync();
        await using var alice = await AttachAsync(id);
        await using var bob = await AttachAsync(id);
        Assert.Equal(id, bob.Attached.GetProperty("vmId").GetString());
        Assert.Equal(new[] { alice.SessionId, bob.SessionId }.Order(),
            bob.Attached.GetProperty("sessions").EnumerateArray().Select(s => s.GetString()).Order());
        Assert.Equal(new[] { alice.SessionId, bob.SessionId }.Order(), (await SessionsAsync(id)).Order());

        var own = await alice.EvalAsync("shared = 'from alice'");
        Assert.Equal("shared = 'from alice'", own.GetProperty("input").GetString());
        Assert.Equal("[]", own.GetProperty("values").GetRawText());
        Assert.Null(ErrorKind(own));
        Assert.False(own.GetProperty("incomplete").GetBoolean());
        var seenByBob = await bob.EvaluatedAsync(alice.SessionId);
        Assert.Equal("shared = 'from alice'", seenByBob.GetProperty("input").GetString());

        Assert.Equal("from alice\n", (await bob.EvalAsync("print(shared)")).GetProperty("output").GetString());
        var seenByAlice = await alice.EvaluatedAsync(bob.SessionId);
        Assert.Equal("print(shared)", seenByAlice.GetProperty("input").GetString());
        Assert.Equal("from alice\n", seenByAlice.GetProperty("output").GetString());

        var values = await alice.EvalAsync("1 + 1, 'two', 2.5");
        Assert.Equal("""[2,"two",2.5]""", values.GetProperty("values").GetRawText());
        var failed = await alice.EvalAsync("error('oops')");
        Assert.Equal("runtime", ErrorKind(failed));
        Assert.Contains("oops", failed.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_unfinished_chunk_is_incomplete_until_its_last_line()
    {
        var id = await CreateVmAsync();
        await using var client = await AttachAsync(id);
        Assert.True((await client.EvalAsync("function f(n)")).GetProperty("incomplete").GetBoolean());
        Assert.True((await client.EvalAsync("  return n * 2")).GetProperty("incomplete").GetBoolean());
        var done = await client.EvalAsync("end");
        Assert.False(done.GetProperty("incomplete").GetBoolean());
        Assert.Equal("function f(n)\n  return n * 2\nend", done.GetProperty("input").GetString());
        Assert.Null(ErrorKind(done));
        Assert.Equal("[42]", (await client.EvalAsync("f(21)")).GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task Interrupt_stops_the_running_chunk_and_the_vm_keeps_its_state()
    {
        var id = await CreateVmAsync(new { limits = new { timeoutMs = 60000 } });
        await using var client = await AttachAsync(id);
        await client.EvalAsync("kept = 'yes'");
        await client.SendInputAsync("while true do end");
        await Eventually.TrueAsync(async () =>
            (await fixture.Client.GetFromJsonAsync<JsonElement>($"vms/{id}")).GetProperty("pendingRequests").GetInt32() > 0,
            what: "the loop running");
        await client.SendAsync(new { type = "interrupt" });
        Assert.Equal("interrupted", ErrorKind(await client.EvaluatedAsync()));
        Assert.Equal("""["yes"]""", (await client.EvalAsync("kept")).GetProperty("values").GetRawText());
        Assert.Equal(0, (await fixture.Client.GetFromJsonAsync<JsonElement>($"vms/{id}")).GetProperty("restarts").GetInt32());
    }

    [Fact]
    public async Task Closing_or_dropping_the_socket_removes_the_session_from_the_vm()
    {
        var id = await CreateVmAsync();
        var closing = await AttachAsync(id);
        var dropping = await AttachAsync(id);
        Assert.Equal(2, (await SessionsAsync(id)).Count);

        await closing.DisposeAsync();
        await Eventually.TrueAsync(async () => (await SessionsAsync(id)).SequenceEqual([dropping.SessionId]), what: "the closed session dropped");

        // No closing handshake at all: the connection just ends.
        dropping.Socket.Abort();
        dropping.Socket.Dispose();
        await Eventually.TrueAsync(async () => (await SessionsAsync(id)).Count == 0, what: "the aborted session dropped");
    }

    [Fact]
    public async Task Detach_answers_detached_and_closes_the_socket()
    {
        var id = await CreateVmAsync();
        await using var client = await AttachAsync(id);
        await client.SendAsync(new { type = "detach" });
        var detached = await client.NextAsync("detached");
        Assert.Equal(client.SessionId, detached.GetProperty("sessionId").GetString());
        Assert.Null(await client.NextAsync());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.Socket.CloseStatus);
        Assert.Empty(await SessionsAsync(id));
    }

    [Fact]
    public async Task Removing_the_vm_tells_stopped_and_closes_the_socket()
    {
        var id = await CreateVmAsync();
        await using var client = await AttachAsync(id);
        (await fixture.Client.DeleteAsync($"vms/{id}")).Dispose();
        Assert.False(string.IsNullOrEmpty((await client.NextAsync("stopped")).GetProperty("reason").GetString()));
        Assert.Null(await client.NextAsync());
    }

    [Fact]
    public async Task Bad_messages_get_an_error_and_the_connection_stays_usable()
    {
        var id = await CreateVmAsync();
        await using var client = await AttachAsync(id);
        foreach (var bad in new[]
        {
            "not json", "{\"type\":", "[1]", "{}", "{\"type\":\"dance\"}", "{\"type\":\"input\"}",
            "{\"type\":\"input\",\"line\":42}", "{\"type\":\"input\",\"line\":\"1\",\"extra\":true}",
        })
        {
            await client.SendTextAsync(bad);
            var error = await client.NextAsync("error");
            Assert.Equal("invalid-request", error.GetProperty("kind").GetString());
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        }

        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.Equal("invalid-request", (await client.NextAsync("error")).GetProperty("kind").GetString());
        Assert.Equal("[3]", (await client.EvalAsync("1 + 2")).GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task Stopping_the_node_closes_the_socket_as_going_away()
    {
        var node = new NodeFixture();
        await node.InitializeAsync();
        var stopped = false;
        try
        {
            await node.CreateVmAsync("doomed");

            await using var client = await SessionSocketClient.ConnectAsync(node.Url, "doomed");
            var stopping = node.DisposeAsync();
            while (await client.NextAsync() is not null)
            {
                // Whatever came before the close.
            }

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Socket.CloseStatus);
            await stopping;
            stopped = true;
        }
        finally
        {
            if (!stopped)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_unknown_vm_is_refused_before_the_upgrade_with_404()
    {
        await ApiAssert.ErrorAsync(await fixture.Client.GetAsync("vms/no-such-vm/attach"), HttpStatusCode.NotFound, "not-found");
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(SessionSocketClient.UrlOf(fixture.Url, "no-such-vm"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, socket.HttpStatusCode);

        // A known VM without the upgrade: told what the endpoint takes.
        var id = await CreateVmAsync();
        await ApiAssert.ErrorAsync(await fixture.Client.GetAsync($"vms/{id}/attach"), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await SessionsAsync(id));
    }
}
