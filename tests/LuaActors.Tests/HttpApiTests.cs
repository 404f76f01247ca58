using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LuaActors.Host;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The node's HTTP API against a real in-process node: every endpoint and status code.</summary>
public sealed class HttpApiTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private HttpClient Client => fixture.Client;

    private static StringContent Json(string json) => ApiAssert.Json(json);

    private async Task<JsonElement> ExecuteAsync(string id, object request)
    {
        using var response = await Client.PostAsJsonAsync($"vms/{id}/execute", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string kind) =>
        ApiAssert.ErrorAsync(response, status, kind);

    [Fact]
    public async Task Create_answers_201_with_the_vm_info_and_its_location()
    {
        var id = ManagerFixture.NewId("http");
        using var response = await fixture.PostVmAsync(id, new { type = "basic", initScript = "x = 41", limits = new { timeoutMs = 3000, memoryMb = 32, outputCapBytes = 1000 } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/vms/{id}", response.Headers.Location?.OriginalString);
        var info = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, info.GetProperty("id").GetString());
        Assert.Equal("basic", info.GetProperty("type").GetString());
        Assert.Equal("running", info.GetProperty("state").GetString());
        Assert.True(info.GetProperty("processId").GetInt32() > 0);
        Assert.Equal(fixture.Node.Address.ToString(), info.GetProperty("node").GetString());

        var result = await ExecuteAsync(id, new { code = "return x + 1" });
        Assert.Equal("[42]", result.GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task List_and_info_show_the_vm_then_delete_answers_204_and_it_is_gone()
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);

        var list = await Client.GetFromJsonAsync<JsonElement>("vms");
        Assert.Contains(list.GetProperty("vms").EnumerateArray(), vm => vm.GetProperty("id").GetString() == id);

        var info = await Client.GetFromJsonAsync<JsonElement>($"vms/{id}");
        Assert.Equal(id, info.GetProperty("id").GetString());
        Assert.Equal(0, info.GetProperty("restarts").GetInt32());
        // The kernel layers that confine its process (docs/guarantees.md, Confinement).
        Assert.Contains("seccomp", info.GetProperty("confinement").EnumerateArray().Select(l => l.GetString()));

        using (var removed = await Client.DeleteAsync($"vms/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await AssertErrorAsync(await Client.GetAsync($"vms/{id}"), HttpStatusCode.NotFound, "not-found");
        await AssertErrorAsync(await Client.DeleteAsync($"vms/{id}"), HttpStatusCode.NotFound, "not-found");
        list = await Client.GetFromJsonAsync<JsonElement>("vms");
        Assert.DoesNotContain(list.GetProperty("vms").EnumerateArray(), vm => vm.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Execute_returns_the_values_exactly_as_the_vm_encoded_them()
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        var result = await ExecuteAsync(id, new { code = "print('héllo <&>') return 1, 2.0, 'é', {1, 2}, nil, 9007199254740993" });
        Assert.True(result.GetProperty("ok").GetBoolean());
        Assert.Equal(6, result.GetProperty("count").GetInt32());
        Assert.Equal("""[1,2.0,"é",[1,2],null,9007199254740993]""", result.GetProperty("values").GetRawText());
        Assert.Equal("héllo <&>\n", result.GetProperty("output").GetString());
        Assert.False(result.GetProperty("outputTruncated").GetBoolean());
    }

    [Fact]
    public async Task Repl_mode_evaluates_an_expression_and_globals_persist()
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        await ExecuteAsync(id, new { code = "answer = 6 * 7", mode = "repl" });
        var result = await ExecuteAsync(id, new { code = "answer", mode = "repl" });
        Assert.Equal("[42]", result.GetProperty("values").GetRawText());
    }

    [Theory]
    [InlineData("print('before') error('boom')", "runtime", "boom", "before\n")]
    [InlineData("return +", "syntax", "unexpected symbol", "")]
    [InlineData("while true do end", "timeout", "", "")]
    public async Task A_lua_error_is_a_200_result_with_ok_false(string code, string kind, string message, string output)
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        var result = await ExecuteAsync(id, new { code, timeoutMs = 300 });
        Assert.False(result.GetProperty("ok").GetBoolean());
        Assert.False(result.TryGetProperty("values", out _));
        var error = result.GetProperty("error");
        Assert.Equal(kind, error.GetProperty("kind").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(output, error.GetProperty("output").GetString());
        Assert.True(error.TryGetProperty("traceback", out _));

        // The VM is still there, with its state.
        Assert.True((await ExecuteAsync(id, new { code = "return 1" })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task A_duplicate_id_is_409()
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        await AssertErrorAsync(await fixture.PostVmAsync(id), HttpStatusCode.Conflict, "already-exists");
    }

    [Fact]
    public async Task Unknown_type_and_failing_init_script_are_422()
    {
        await AssertErrorAsync(await fixture.PostVmAsync(ManagerFixture.NewId("http"), new { type = "docker" }), HttpStatusCode.UnprocessableEntity, "unknown-type");
        await AssertErrorAsync(await fixture.PostVmAsync(ManagerFixture.NewId("http"), new { initScript = "error('no')" }), HttpStatusCode.UnprocessableEntity, "init-failed");
    }

    [Fact]
    public async Task Code_for_a_type_that_cannot_run_it_is_422()
    {
        var id = ManagerFixture.NewId("http");
        using (var created = await fixture.PostVmAsync(id, new { type = "xcpng", config = new { xcpng_host = "xcp.example.org", username = "root", password = "pw", template = "t" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var info = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("not-provisioned", info.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, info.GetProperty("processId").ValueKind);
        }

        await AssertErrorAsync(await Client.PostAsync($"vms/{id}/execute", Json("""{"code":"return 1"}""")), HttpStatusCode.UnprocessableEntity, "not-supported");
    }

    [Theory]
    [InlineData("{\"id\":\"bad id!\"}", "invalid-request")]
    [InlineData("{\"id\":\".\"}", "invalid-request")]
    [InlineData("{\"id\":\"..\"}", "invalid-request")]
    [InlineData("{\"id\":\"neg-timeout\",\"limits\":{\"timeoutMs\":-5}}", "invalid-spec")]
    [InlineData("{\"id\":\"bad-config\",\"config\":{\"x\":\"y\"}}", "invalid-spec")]
    [InlineData("{\"id\":", "invalid-request")]
    [InlineData("", "invalid-request")]
    [InlineData("null", "invalid-request")]
    [InlineData("[1]", "invalid-request")]
    [InlineData("{\"type\":\"basic\"}", "invalid-request")]
    [InlineData("{\"id\":42}", "invalid-request")]
    [InlineData("{\"id\":null}", "invalid-request")]
    [InlineData("{\"id\":\"null-config\",\"config\":{\"a\":null}}", "invalid-request")]
    [InlineData("{\"id\":\"typo\",\"initscript\":\"x=1\",\"limitz\":{}}", "invalid-request")]
    [InlineData("{\"id\":\"str-limit\",\"limits\":{\"timeoutMs\":\"100\"}}", "invalid-request")]
    [InlineData("{\"id\":\"num-config\",\"config\":{\"port\":443}}", "invalid-request")]
    public async Task Malformed_or_invalid_creates_are_400(string body, string kind) =>
        await AssertErrorAsync(await Client.PostAsync("vms", Json(body)), HttpStatusCode.BadRequest, kind);

    [Theory]
    [InlineData("{\"code\":", "invalid-request")]
    [InlineData("{}", "invalid-request")]
    [InlineData("{\"code\":null}", "invalid-request")]
    [InlineData("{\"code\":\"return 1\",\"mode\":\"shell\"}", "invalid-request")]
    [InlineData("{\"code\":\"return 1\",\"timeoutMs\":-1}", "invalid-request")]
    [InlineData("{\"code\":\"return 1\",\"timeout\":100}", "invalid-request")]
    public async Task Malformed_or_invalid_executes_are_400(string body, string kind)
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        await AssertErrorAsync(await Client.PostAsync($"vms/{id}/execute", Json(body)), HttpStatusCode.BadRequest, kind);
    }

    [Fact]
    public async Task Execute_on_an_unknown_vm_is_404() =>
        await AssertErrorAsync(
            await Client.PostAsync("vms/no-such-vm/execute", Json("""{"code":"return 1"}""")), HttpStatusCode.NotFound, "not-found");

    [Fact]
    public async Task A_vm_process_dying_mid_request_is_503_crashed_and_the_vm_comes_back()
    {
        var id = ManagerFixture.NewId("http");
        using (var created = await fixture.PostVmAsync(id))
        {
            var pid = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("processId").GetInt32();
            var running = Client.PostAsJsonAsync($"vms/{id}/execute", new { code = "while true do end", timeoutMs = 60000 });
            await Eventually.TrueAsync(async () =>
                (await Client.GetFromJsonAsync<JsonElement>($"vms/{id}")).GetProperty("pendingRequests").GetInt32() > 0,
                what: "the request reaching the VM");
            LuaProcesses.Kill9(pid);
            using var response = await running;
            Assert.Equal("1", response.Headers.RetryAfter?.ToString());
            await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "crashed");
        }

        Assert.Equal("[2]", (await ExecuteAsync(id, new { code = "return 1 + 1" })).GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task Cluster_shows_this_node_up_as_leader_with_its_vm_count()
    {
        var id = ManagerFixture.NewId("http");
        await fixture.CreateVmAsync(id);
        var cluster = await Client.GetFromJsonAsync<JsonElement>("cluster");
        var self = fixture.Node.Address.ToString();
        Assert.Equal(self, cluster.GetProperty("self").GetString());
        Assert.Equal(self, cluster.GetProperty("leader").GetString());
        var member = Assert.Single(cluster.GetProperty("members").EnumerateArray());
        Assert.Equal(self, member.GetProperty("address").GetString());
        Assert.Equal("up", member.GetProperty("status").GetString());
        Assert.True(member.GetProperty("reachable").GetBoolean());
        Assert.Equal(JsonValueKind.Array, member.GetProperty("roles").ValueKind);
        Assert.True(member.GetProperty("vms").GetInt32() >= 1);
        Assert.Equal(cluster.GetProperty("vms").GetInt32(), member.GetProperty("vms").GetInt32());
    }

    [Fact]
    public async Task An_unknown_endpoint_is_404_no_route_and_no_token_is_needed_on_loopback()
    {
        await AssertErrorAsync(await Client.GetAsync("nothing/here"), HttpStatusCode.NotFound, "no-route");
        using var anonymous = fixture.NewClient(token: null);
        using var response = await anonymous.GetAsync("vms");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Every_error_kind_has_a_deliberate_status()
    {
        foreach (var kind in Enum.GetValues<ErrorKind>())
        {
            var status = (int)ApiErrors.StatusOf(kind);
            Assert.True(status is 400 or 404 or 409 or 413 or 422 or 429 or 503, $"{kind} maps to {status}");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, ApiErrors.StatusOf(ErrorKind.InboxFull));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, ApiErrors.StatusOf(ErrorKind.TooLarge));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ApiErrors.StatusOf(ErrorKind.StorageLimit));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ApiErrors.StatusOf(ErrorKind.VmFailed));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ApiErrors.StatusOf(ErrorKind.Overloaded));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ApiErrors.StatusOf(ErrorKind.Stopped));
        Assert.True(ErrorKind.Incomplete.IsLuaError());
        Assert.False(ErrorKind.VmFailed.IsTransient());
    }
}

/// <summary>A node listening beyond loopback requires a token, and then every request needs it.</summary>
public sealed class HttpAuthTests(TokenNodeFixture fixture) : IClassFixture<TokenNodeFixture>
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task Without_the_right_token_every_request_is_401(string? token)
    {
        using var client = fixture.NewClient(token);
        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => client.GetAsync("vms"),
            () => client.GetAsync("cluster"),
            () => client.PostAsJsonAsync("vms", new { id = "sneaky" }),
            () => client.DeleteAsync("vms/anything"),
        })
        {
            using var response = await request();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Equal("unauthorized", error.GetProperty("kind").GetString());
        }

        using var check = await fixture.Client.GetAsync("vms/sneaky");
        Assert.Equal(HttpStatusCode.NotFound, check.StatusCode);
    }

    [Fact]
    public async Task With_the_token_requests_work()
    {
        using var response = await fixture.PostVmAsync(ManagerFixture.NewId("auth"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task The_attach_websocket_takes_the_token_in_the_header_or_as_access_token()
    {
        var id = await fixture.NewVmAsync("auth");
        foreach (var (token, query) in new[] { ((string?)null, ""), ("wrong-token", ""), (null, "access_token=wrong-token") })
        {
            using var refused = new System.Net.WebSockets.ClientWebSocket();
            refused.Options.CollectHttpResponseDetails = true;
            if (token is not null)
            {
                refused.Options.SetRequestHeader("Authorization", "Bearer " + token);
            }

            await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() =>
                refused.ConnectAsync(SessionSocketClient.UrlOf(fixture.Url, id, query), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.HttpStatusCode);
        }

        await using (var byHeader = await SessionSocketClient.ConnectAsync(fixture.Url, id, TokenNodeFixture.TokenValue))
        {
            Assert.Equal("[2]", (await byHeader.EvalAsync("1 + 1")).GetProperty("values").GetRawText());
        }

        await using (var byQuery = await SessionSocketClient.ConnectAsync(fixture.Url, id, query: "access_token=" + TokenNodeFixture.TokenValue))
        {
            Assert.Equal("[2]", (await byQuery.EvalAsync("1 + 1")).GetProperty("values").GetRawText());
        }

        // Only a WebSocket upgrade may carry the token in its URL.
        using var anonymous = fixture.NewClient(token: null);
        using var plain = await anonymous.GetAsync($"vms/{id}?access_token={TokenNodeFixture.TokenValue}");
        Assert.Equal(HttpStatusCode.Unauthorized, plain.StatusCode);
    }

    [Theory]
    [InlineData("0.0.0.0:0")]
    [InlineData("[::]:0")]
    public async Task Listening_beyond_loopback_without_a_token_is_refused(string http)
    {
        var error = await Assert.ThrowsAsync<NodeOptionsException>(() =>
            NodeHost.StartAsync(new NodeOptions { Port = 0, Http = http }));
        Assert.Contains("token", error.Message);
    }
}
