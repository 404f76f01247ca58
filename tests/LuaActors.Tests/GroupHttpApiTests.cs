using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The /groups endpoints of a real in-process node.</summary>
public sealed class GroupHttpApiTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Create_execute_with_one_failing_vm_get_and_remove()
    {
        var group = ManagerFixture.NewId("http-group");
        using (var created = await Client.PostAsJsonAsync("groups", new { name = group, count = 3, initScript = "n = 10" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal($"/groups/{group}", created.Headers.Location?.OriginalString);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(group, body.GetProperty("name").GetString());
            Assert.Equal([$"{group}-1", $"{group}-2", $"{group}-3"],
                body.GetProperty("vms").EnumerateArray().Select(vm => vm.GetProperty("id").GetString()));
            Assert.All(body.GetProperty("vms").EnumerateArray(), vm => Assert.Equal("running", vm.GetProperty("state").GetString()));
        }

        using (var executed = await Client.PostAsJsonAsync($"groups/{group}/execute",
            new { code = $"if vm.id() == '{group}-2' then error('boom') end return n + 1" }))
        {
            Assert.Equal(HttpStatusCode.OK, executed.StatusCode);
            var answer = await executed.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(answer.GetProperty("ok").GetBoolean());
            var results = answer.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal([$"{group}-1", $"{group}-2", $"{group}-3"], results.Select(r => r.GetProperty("vmId").GetString()));
            Assert.Equal("[11]", results[0].GetProperty("values").GetRawText());
            Assert.False(results[1].GetProperty("ok").GetBoolean());
            Assert.Equal("runtime", results[1].GetProperty("error").GetProperty("kind").GetString());
            Assert.Contains("boom", results[1].GetProperty("error").GetProperty("message").GetString());
            Assert.Equal("[11]", results[2].GetProperty("values").GetRawText());
        }

        var members = await Client.GetFromJsonAsync<JsonElement>($"groups/{group}");
        Assert.Equal(3, members.GetProperty("vms").GetArrayLength());

        using (var removed = await Client.DeleteAsync($"groups/{group}"))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            Assert.Equal(3, (await removed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("removed").GetInt32());
        }

        await ApiAssert.ErrorAsync(await Client.GetAsync($"groups/{group}"), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ErrorAsync(await Client.DeleteAsync($"groups/{group}"), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync($"groups/{group}/execute", new { code = "return 1" }),
            HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ErrorAsync(await Client.GetAsync($"vms/{group}-1"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_group_clashing_with_an_existing_vm_is_409_and_leaves_nothing_behind()
    {
        var group = ManagerFixture.NewId("http-group");
        await fixture.CreateVmAsync($"{group}-2");
        await ApiAssert.ErrorAsync(await Client.PostAsJsonAsync("groups", new { name = group, count = 3 }), HttpStatusCode.Conflict, "already-exists");
        var members = await Client.GetFromJsonAsync<JsonElement>($"groups/{group}");
        Assert.Equal([$"{group}-2"], members.GetProperty("vms").EnumerateArray().Select(vm => vm.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("groups", "{\"count\":2}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"g\"}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"g\",\"count\":0}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"g\",\"count\":1001}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"\",\"count\":1}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"bad name!\",\"count\":1}", "invalid-request")]
    [InlineData("groups", "{\"name\":\"g\",\"count\":1,\"timeout\":5}", "invalid-request")]
    [InlineData("groups/g/execute", "{}", "invalid-request")]
    [InlineData("groups/g/execute", "{\"code\":\"return 1\",\"timeoutMs\":-1}", "invalid-request")]
    public async Task Malformed_or_invalid_group_requests_are_400(string path, string body, string kind) =>
        await ApiAssert.ErrorAsync(await Client.PostAsync(path, ApiAssert.Json(body)), HttpStatusCode.BadRequest, kind);
}
