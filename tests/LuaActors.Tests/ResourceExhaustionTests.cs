using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// A node that runs out of file descriptors: the create that hits the limit fails alone, with a
/// typed error (capacity: the node counts the descriptors its VMs hold against RLIMIT_NOFILE);
/// the shared launcher (luaactors-spawn) and every VM already running go on.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class ResourceExhaustionTests
{
    // A node needs ~150 fds of its own plus luaactors.capacity.reserved-fds (256); each VM process
    // holds 1 more through luaactors-spawn (its socket), 4 through the exec chain (3 pipes, a pidfd).
    private const string FdLimit = "--nofile=600:600";

    [Theory]
    [InlineData("spawner")]
    [InlineData("exec-chain")]
    public async Task A_create_past_the_fd_limit_gets_capacity_and_running_vms_keep_their_state(string launcher)
    {
        using var config = await TempFile.WithTextAsync($"luaactors.vm-types.basic.launcher = {launcher}\n");
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>(), ["prlimit", FdLimit], ["--config", config.Path]);
        using (var created = await node.Client.PostAsJsonAsync("vms", new { id = "keeper" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Runtime state, set after creation: a restart would lose it (no init script sets it).
        Assert.Equal("[]", await ValuesAsync(node, "keeper", "y = 99"));
        var parent = LuaProcesses.ParentOf(await ProcessIdAsync(node, "keeper"));

        HttpResponseMessage? refused = null;
        var made = new List<string>();
        for (var i = 0; i < 600 && refused is null; i++)
        {
            var id = $"filler-{i}";
            var response = await node.Client.PostAsJsonAsync("vms", new { id });
            if (response.StatusCode == HttpStatusCode.Created)
            {
                made.Add(id);
                // Read to the end, so the connection is reused rather than drained or dropped.
                await response.Content.ReadAsStringAsync();
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode} {body}");
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
            Assert.Equal("capacity", error.GetProperty("kind").GetString());
            // Names the limit and how to raise it.
            var message = error.GetProperty("message").GetString()!;
            Assert.Matches(@"capacity of \d+ VM processes", message);
            Assert.Contains("RLIMIT_NOFILE is 600", message, StringComparison.Ordinal);
            Assert.Contains("LimitNOFILE=", message, StringComparison.Ordinal);
            Assert.Contains("ulimit -n", message, StringComparison.Ordinal);
        }

        // A group past the limit: its member that finds no room answers capacity (the group's
        // members are removed again), at once, not crashed after a time-out.
        using (var group = await node.Client.PostAsJsonAsync("groups", new { name = "over", count = 20 }))
        {
            var body = await group.Content.ReadAsStringAsync();
            Assert.True(group.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)group.StatusCode} {body}");
            Assert.Equal("capacity", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("kind").GetString());
        }

        // The VM created first still has its state, was never restarted, under the same parent
        // (luaactors-spawn, or the node itself for the exec chain).
        Assert.Equal("[99]", await ValuesAsync(node, "keeper", "return y"));
        var info = await node.Client.GetFromJsonAsync<JsonElement>("vms/keeper");
        Assert.Equal(0, info.GetProperty("restarts").GetInt32());
        Assert.Equal(parent, LuaProcesses.ParentOf(info.GetProperty("processId").GetInt32()));

        // Fds given back, the same launcher starts VMs again.
        foreach (var id in made.TakeLast(3))
        {
            using var removed = await node.Client.DeleteAsync($"vms/{id}");
            Assert.True(removed.IsSuccessStatusCode, $"DELETE {id}: {(int)removed.StatusCode}");
        }

        await Eventually.TrueAsync(async () =>
        {
            using var again = await node.Client.PostAsJsonAsync("vms", new { id = "after" });
            await again.Content.ReadAsStringAsync();
            return again.StatusCode == HttpStatusCode.Created;
        }, TimeSpan.FromSeconds(30), "a create succeeding after VMs were removed");
        Assert.Equal(parent, LuaProcesses.ParentOf(await ProcessIdAsync(node, "after")));
    }

    private static async Task<string> ValuesAsync(NodeProcess node, string id, string code)
    {
        using var response = await node.Client.PostAsJsonAsync($"vms/{id}/execute", new { code });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        var result = JsonDocument.Parse(body).RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean(), body);
        return result.GetProperty("values").GetRawText();
    }

    private static async Task<int> ProcessIdAsync(NodeProcess node, string id) =>
        (await node.Client.GetFromJsonAsync<JsonElement>($"vms/{id}")).GetProperty("processId").GetInt32();
}
