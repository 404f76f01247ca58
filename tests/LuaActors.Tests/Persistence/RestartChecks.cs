using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Persistence;

/// <summary>What the restart tests create and then expect back, over any node's HTTP API.</summary>
internal static class RestartChecks
{
    public static async Task CreatedAsync(DurableNode node, string vmId, string initScript)
    {
        using var response = await node.CreateAsync(vmId, initScript);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create {vmId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task GroupCreatedAsync(DurableNode node, string name, int count, string initScript)
    {
        using var response = await node.Client.PostAsJsonAsync("groups", new { name, count, initScript });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"group {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task RemovedAsync(DurableNode node, string vmId)
    {
        using var response = await node.Client.DeleteAsync($"vms/{vmId}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The VM answers <paramref name="expression"/> with the value its init script set.</summary>
    public static async Task AnswersAsync(DurableNode node, string vmId, string expression, long expected) =>
        Assert.Equal(expected, (await node.EvalAsync(vmId, $"return {expression}")).GetInt64());

    public static async Task AnswersAsync(DurableNode node, string vmId, string expression, string expected) =>
        Assert.Equal(expected, (await node.EvalAsync(vmId, $"return {expression}")).GetString());

    public static async Task NotFoundAsync(DurableNode node, string vmId)
    {
        using var response = await node.Client.GetAsync($"vms/{vmId}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Exactly these VMs are listed.</summary>
    public static async Task ListedAsync(DurableNode node, params string[] vmIds)
    {
        var list = await node.Client.GetFromJsonAsync<JsonElement>("vms");
        var ids = list.GetProperty("vms").EnumerateArray().Select(v => v.GetProperty("id").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(vmIds.Order(StringComparer.Ordinal), ids);
    }

    /// <summary>
    /// With no request from anyone, the nodes run <paramref name="count"/> VM processes: the VMs
    /// came back by themselves (spare processes are off in <see cref="DurableNode"/>'s config).
    /// </summary>
    public static Task CameBackByThemselvesAsync(IReadOnlyList<DurableNode> nodes, int count) =>
        Eventually.TrueAsync(() => nodes.Sum(n => LuaProcesses.StartedBy(n.ProcessId).Count) == count,
            TimeSpan.FromSeconds(60), $"{count} VM processes started with no request");
}
