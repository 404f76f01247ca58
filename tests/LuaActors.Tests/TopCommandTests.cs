using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>`luaactors top --json` against a real node after known work (docs/cli.md, "top").</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class TopCommandTests
{
    private const int Executes = 3;

    [Fact]
    public async Task Top_json_finds_the_vms_that_did_the_work()
    {
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>());
        var client = node.Client;
        foreach (var id in new[] { "busy", "idle" })
        {
            using var created = await client.PostAsJsonAsync("vms", new { id });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        for (var i = 0; i < Executes; i++)
        {
            using var executed = await client.PostAsJsonAsync("vms/busy/execute", new { code = "local x = 0 for i = 1, 1e5 do x = x + i end return x" });
            Assert.Equal(HttpStatusCode.OK, executed.StatusCode);
        }

        var result = await LuaActorsCli.RunAsync(client.BaseAddress!, null, ["top", "--json", "--interval", "0.2"]);
        LuaActorsCli.AssertOk(result);
        var top = JsonDocument.Parse(result.StandardOutput).RootElement;

        var member = Assert.Single(top.GetProperty("nodes").EnumerateArray());
        Assert.Equal(top.GetProperty("self").GetString(), member.GetProperty("address").GetString());
        Assert.Equal(2, member.GetProperty("vms").GetInt32());
        Assert.True(member.GetProperty("processors").GetInt32() > 0);

        var vms = top.GetProperty("vms").EnumerateArray().ToDictionary(v => v.GetProperty("id").GetString()!);
        Assert.Equal(["busy", "idle"], vms.Keys.Order());
        Assert.Equal(Executes, vms["busy"].GetProperty("executions").GetInt64());
        Assert.True(vms["busy"].GetProperty("p99Ms").GetDouble() > 0);
        Assert.Equal(0, vms["idle"].GetProperty("executions").GetInt64());
        Assert.Equal(JsonValueKind.Null, vms["idle"].GetProperty("p99Ms").ValueKind);
        Assert.All(vms.Values, v =>
        {
            Assert.Equal("running", v.GetProperty("state").GetString());
            Assert.True(v.GetProperty("residentBytes").GetInt64() > 0);
            Assert.Equal(0, v.GetProperty("restarts").GetInt32());
            Assert.True(v.GetProperty("cpuPercent").GetDouble() >= 0);
        });

        // --limit keeps the busiest: none used CPU in the interval, so the one with executes.
        var limited = await LuaActorsCli.RunAsync(client.BaseAddress!, null, ["top", "--json", "--interval", "0.2", "--limit", "1"]);
        LuaActorsCli.AssertOk(limited);
        Assert.Equal(["busy"], JsonDocument.Parse(limited.StandardOutput).RootElement.GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("id").GetString()));
    }
}
