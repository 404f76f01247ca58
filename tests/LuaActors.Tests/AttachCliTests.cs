using System.Net.Http.Json;
using System.Text.Json;
using CliWrap.Buffered;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The real `luaactors attach` driven through piped stdin, and `luaactors group …`, against an
/// in-process node that requires a token (passed through LUAACTORS_TOKEN).
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class AttachCliTests(LoopbackTokenNodeFixture fixture) : IClassFixture<LoopbackTokenNodeFixture>
{
    private Task<BufferedCommandResult> RunAsync(params string[] args) => LuaActorsCli.RunAsync(fixture.Url, fixture.Token, args);

    private Task<BufferedCommandResult> AttachAsync(string id, string stdin) =>
        LuaActorsCli.RunAsync(fixture.Url, fixture.Token, ["attach", id], stdin);

    private Task<string> CreateVmAsync() => fixture.NewVmAsync("cli-attach");

    [Fact]
    public async Task Attach_runs_piped_lines_prints_like_exec_and_detaches()
    {
        var id = await CreateVmAsync();
        var result = await AttachAsync(id, "x = 42\nprint(x)\nfunction f()\n  return x + 1, 'y'\nend\nf()\n");
        LuaActorsCli.AssertOk(result);
        Assert.Equal("42\n[43,\"y\"]\n", result.StandardOutput);
        Assert.Equal("", result.StandardError);

        // The state stays in the VM; the session left it.
        using var exec = await fixture.Client.PostAsJsonAsync($"vms/{id}/execute", new { code = "return x" });
        Assert.Equal("[42]", (await exec.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("values").GetRawText());
        var info = await fixture.Client.GetFromJsonAsync<JsonElement>($"vms/{id}");
        Assert.Empty(info.GetProperty("sessions").EnumerateArray());
    }

    [Fact]
    public async Task A_failing_line_or_an_unfinished_chunk_at_the_end_exits_1_after_running_every_line()
    {
        var id = await CreateVmAsync();
        var failing = await AttachAsync(id, "print('before')\nerror('boom')\nprint('after')\n");
        Assert.Equal(1, failing.ExitCode);
        Assert.Equal("before\nafter\n", failing.StandardOutput);
        Assert.StartsWith("runtime: ", failing.StandardError);
        Assert.Contains("boom", failing.StandardError);

        var unfinished = await AttachAsync(id, "y = 1\nfunction g()\n");
        Assert.Equal(1, unfinished.ExitCode);
        Assert.Contains("unfinished chunk", unfinished.StandardError);
    }

    [Fact]
    public async Task Attach_to_an_unknown_vm_exits_1_with_the_nodes_error()
    {
        var result = await AttachAsync("no-such-vm", "return 1\n");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("not-found: ", result.StandardError);

        var unauthorized = await LuaActorsCli.RunAsync(fixture.Url, "wrong-token", ["attach", await CreateVmAsync()], "return 1\n");
        Assert.Equal(1, unauthorized.ExitCode);
        Assert.StartsWith("unauthorized: ", unauthorized.StandardError);
    }

    [Fact]
    public async Task Group_create_exec_with_one_failing_vm_and_rm()
    {
        var group = ManagerFixture.NewId("cli-group");
        var created = await RunAsync("group", "create", group, "3", "--timeout-ms", "5000");
        LuaActorsCli.AssertOk(created);
        var lines = created.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+STATE\s+PID\s+NODE$", lines[0]);
        Assert.Equal([$"{group}-1", $"{group}-2", $"{group}-3"], lines[1..4].Select(line => line.Split(' ')[0]));
        Assert.Equal($"created group {group}: 3 VMs", lines[4]);

        var code = $"if vm.id() == '{group}-2' then error('boom') end print('on ' .. vm.id()) return 7";
        var exec = await RunAsync("group", "exec", group, code);
        Assert.Equal(1, exec.ExitCode);
        Assert.Equal($"== {group}-1 ==\non {group}-1\n7\n== {group}-2 ==\n== {group}-3 ==\non {group}-3\n7\n", exec.StandardOutput);
        Assert.StartsWith("runtime: ", exec.StandardError);
        Assert.Contains("boom", exec.StandardError);
        Assert.EndsWith($"1 of 3 VMs failed: {group}-2\n", exec.StandardError);

        var json = await RunAsync("group", "exec", group, "--json", "return 1");
        LuaActorsCli.AssertOk(json);
        var answer = JsonDocument.Parse(json.StandardOutput).RootElement;
        Assert.True(answer.GetProperty("ok").GetBoolean());
        Assert.Equal(3, answer.GetProperty("results").GetArrayLength());

        var removed = await RunAsync("group", "rm", group);
        LuaActorsCli.AssertOk(removed);
        Assert.Equal($"removed group {group}: 3 VMs\n", removed.StandardOutput);
        var again = await RunAsync("group", "rm", group, "--json");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("not-found: ", again.StandardError);
        Assert.Equal("not-found", JsonDocument.Parse(again.StandardOutput).RootElement.GetProperty("error").GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("attach")]
    [InlineData("attach", "a", "b")]
    [InlineData("attach", "a", "--json")]
    [InlineData("group")]
    [InlineData("group", "frob")]
    [InlineData("group", "create", "g")]
    [InlineData("group", "create", "g", "none")]
    [InlineData("group", "create", "g", "0")]
    [InlineData("group", "exec", "g")]
    [InlineData("group", "rm")]
    public async Task Bad_arguments_exit_2(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("luaactors: ", result.StandardError);
    }
}
