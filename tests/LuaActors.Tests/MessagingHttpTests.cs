using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Messages, topics and peers over a real node's HTTP API and through the `luaactors` CLI.</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class MessagingHttpTests(LoopbackTokenNodeFixture fixture) : IClassFixture<LoopbackTokenNodeFixture>
{
    private HttpClient Client => fixture.Client;

    private Task<string> CreateVmAsync(object? fields = null) => fixture.NewVmAsync("http-msg", fields);

    private async Task<string> ExecuteAsync(string id, string code)
    {
        using var response = await Client.PostAsJsonAsync($"vms/{id}/execute", new { code });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("ok").GetBoolean(), body.GetRawText());
        return body.GetProperty("values").GetRawText();
    }

    [Fact]
    public async Task Messages_topics_and_peers_over_http()
    {
        var id = await CreateVmAsync(new { limits = new { inboxCapacity = 1 } });
        using (var sent = await Client.PostAsJsonAsync($"vms/{id}/messages", new { value = new { n = 1, f = 2.5 } }))
        {
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
            Assert.Equal(1, (await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inboxCount").GetInt32());
        }

        var info = await Client.GetFromJsonAsync<JsonElement>($"vms/{id}");
        Assert.Equal(1, info.GetProperty("inboxCount").GetInt32());

        // A full inbox is 429 inbox-full (retry later); an unknown VM 404; no value 400.
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync($"vms/{id}/messages", new { value = 2 }), HttpStatusCode.TooManyRequests, "inbox-full");
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync("vms/no-such-vm/messages", new { value = 2 }), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ErrorAsync(await Client.PostAsync($"vms/{id}/messages", ApiAssert.Json("{}")), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("[1,2.5,null]", await ExecuteAsync(id, "local v, from = vm.receive(5) return v.n, v.f, from"));

        await ExecuteAsync(id, "vm.subscribe('http-news')");
        using (var published = await Client.PostAsJsonAsync("topics/http-news/messages", new { value = "extra" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
        }

        Assert.Equal("[\"extra\",null,\"http-news\"]", await ExecuteAsync(id, "return vm.receive(5)"));

        var peer = await CreateVmAsync();
        using (var linked = await Client.PostAsJsonAsync($"vms/{id}/peers", new { peer }))
        {
            Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
            Assert.Equal([peer], (await linked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("peers").EnumerateArray().Select(p => p.GetString()));
        }

        Assert.Equal($"[[\"{id}\"]]", await ExecuteAsync(peer, "return vm.peers()"));
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync($"vms/{id}/peers", new { peer = "no-such-vm" }), HttpStatusCode.NotFound, "not-found");
        using (var unlinked = await Client.DeleteAsync($"vms/{id}/peers/{peer}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, unlinked.StatusCode);
        }

        Assert.Equal("[0]", await ExecuteAsync(peer, "return #vm.peers()"));
    }

    [Fact]
    public async Task The_cli_sends_publishes_links_and_creates_networked_vms()
    {
        var created = await LuaActorsCli.RunAsync(fixture.Url, fixture.Token,
            ["vm", "create", ManagerFixture.NewId("cli-net"), "--networking", "--inbox-capacity", "5"]);
        LuaActorsCli.AssertOk(created);
        var id = created.StandardOutput.Split(' ')[1];
        Assert.Equal("[true]", await ExecuteAsync(id, "return socket ~= nil"));

        var sent = await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["vm", "send", id, "{\"k\": [1, 2]}"]);
        LuaActorsCli.AssertOk(sent);
        Assert.Equal($"sent to {id} (1 waiting in its inbox)\n", sent.StandardOutput);
        Assert.Equal("[2]", await ExecuteAsync(id, "return #(vm.receive(5)).k"));

        var notJson = await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["vm", "send", id, "hello"]);
        Assert.Equal(2, notJson.ExitCode);
        Assert.Contains("VALUE must be JSON", notJson.StandardError);

        await ExecuteAsync(id, "vm.subscribe('cli-news')");
        LuaActorsCli.AssertOk(await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["publish", "cli-news", "\"hi\""]));
        Assert.Equal("[\"hi\"]", await ExecuteAsync(id, "return (vm.receive(5))"));

        var peer = await CreateVmAsync();
        LuaActorsCli.AssertOk(await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["vm", "link", id, peer]));
        var info = await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["vm", "info", id]);
        Assert.Contains(peer, info.StandardOutput);
        Assert.Contains("cli-news", info.StandardOutput);

        var unknown = await LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["vm", "send", "no-such-vm", "1"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("not-found", unknown.StandardError);
    }
}
