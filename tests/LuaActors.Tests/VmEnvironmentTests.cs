using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// A VM process gets PATH and TZ from its node and nothing else (docs/configuration.md, "The
/// environment of a VM process"): no token, no secrets, no LUA_INIT, whichever way it starts.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class VmEnvironmentTests
{
    private const string Token = "environ-token-never-in-a-vm";

    [Fact]
    public async Task A_vm_process_environment_holds_only_path_and_tz_even_when_the_node_has_a_token()
    {
        using var config = await TempFile.WithTextAsync("""
            luaactors.vm-types.chained { backend = process, executable = lua5.4, launcher = exec-chain }
            """);
        await using var node = await NodeProcess.StartAsync(
            new Dictionary<string, string?>
            {
                ["LUAACTORS_TOKEN"] = Token,
                ["CLOUD_SECRET_KEY"] = "hunter2",
                ["LUA_INIT"] = "error('LUA_INIT ran')",
                ["LD_PRELOAD"] = "",
                ["TZ"] = "Europe/Paris",
            },
            args: ["--config", config.Path]);

        foreach (var type in new[] { "basic", "chained" })
        {
            using var created = await node.Client.PostAsJsonAsync("vms", new { id = $"env-{type}", type });
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{type}: {(int)created.StatusCode} {body}");
            var pid = JsonDocument.Parse(body).RootElement.GetProperty("processId").GetInt32();

            var environment = Environ(pid);
            Assert.Equal(["PATH", "TZ"], environment.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("Europe/Paris", environment["TZ"]);
            Assert.False(string.IsNullOrEmpty(environment["PATH"]));
            Assert.DoesNotContain(Token, await File.ReadAllTextAsync($"/proc/{pid}/environ"));
        }

        // The launcher, whose environment its children inherit, holds no token either.
        var launcher = LuaProcesses.ParentOf((await node.Client.GetFromJsonAsync<JsonElement>("vms/env-basic")).GetProperty("processId").GetInt32());
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(launcher));
        Assert.Equal(["PATH", "TZ"], Environ(launcher).Keys.Order(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> Environ(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ")
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : "", StringComparer.Ordinal);
}
