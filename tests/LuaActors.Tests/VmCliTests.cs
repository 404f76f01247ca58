using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CliWrap.Buffered;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The real `luaactors vm …` and `luaactors cluster` programs against an in-process node that
/// requires a token (passed through LUAACTORS_TOKEN, the node through LUAACTORS_NODE or --node).
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class VmCliTests(LoopbackTokenNodeFixture fixture) : IClassFixture<LoopbackTokenNodeFixture>
{
    private Task<BufferedCommandResult> RunAsync(params string[] args) => RunWithTokenAsync(fixture.Token, args);

    private Task<BufferedCommandResult> RunWithTokenAsync(string? token, params string[] args) =>
        LuaActorsCli.RunAsync(fixture.Url, token, args);

    private static void AssertOk(BufferedCommandResult result) => LuaActorsCli.AssertOk(result);

    [Fact]
    public async Task Create_list_info_exec_and_remove_a_vm()
    {
        var id = ManagerFixture.NewId("cli");
        using (var init = await TempFile.WithTextAsync("greeting = 'hello from init'\n"))
        {
            var created = await RunAsync("vm", "create", id, "--init", init.Path, "--timeout-ms", "3000", "--memory-mb", "32");
            AssertOk(created);
            Assert.StartsWith($"created {id} on {fixture.Node.Address} (basic, running, pid ", created.StandardOutput);
        }

        var list = await RunAsync("vm", "ls");
        AssertOk(list);
        var lines = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+TYPE\s+STATE\s+PID\s+NODE\s+RESTARTS\s+MEMORY\s+UPTIME$", lines[0]);
        Assert.Contains(lines, line => line.StartsWith(id + " ", StringComparison.Ordinal) && line.Contains("running"));

        var info = await RunAsync("vm", "info", id, "--node", fixture.Url.ToString());
        AssertOk(info);
        Assert.Contains($"id          {id}\n", info.StandardOutput);
        Assert.Contains($"node        {fixture.Node.Address}\n", info.StandardOutput);

        var exec = await RunAsync("vm", "exec", id, "print(greeting) return #greeting");
        AssertOk(exec);
        Assert.Equal("hello from init\n15\n", exec.StandardOutput);

        var removed = await RunAsync("vm", "rm", id);
        AssertOk(removed);
        Assert.Equal($"removed {id}\n", removed.StandardOutput);

        var gone = await RunAsync("vm", "info", id);
        Assert.Equal(1, gone.ExitCode);
        Assert.StartsWith("not-found: ", gone.StandardError);
    }

    [Theory]
    [InlineData("return math.sqrt(16)")]
    [InlineData("print('hello') return 1, 'two', {3}")]
    [InlineData("local x = 1")]
    [InlineData("print('partial') error('bad thing')")]
    [InlineData("return +")]
    public async Task Exec_prints_exactly_like_eval(string code)
    {
        var id = ManagerFixture.NewId("cli");
        AssertOk(await RunAsync("vm", "create", id));
        var eval = RunAsync("eval", code);
        var exec = await RunAsync("vm", "exec", id, code);
        var expected = await eval;
        Assert.Equal(expected.ExitCode, exec.ExitCode);
        Assert.Equal(expected.StandardOutput, exec.StandardOutput);
        Assert.Equal(expected.StandardError, exec.StandardError);
    }

    [Fact]
    public async Task Exec_reads_code_from_a_file_or_stdin_and_a_repl_line()
    {
        var id = ManagerFixture.NewId("cli");
        AssertOk(await RunAsync("vm", "create", id));
        using (var file = await TempFile.WithTextAsync("counter = 41\nreturn counter + 1\n"))
        {
            var fromFile = await RunAsync("vm", "exec", id, "-f", file.Path);
            AssertOk(fromFile);
            Assert.Equal("42\n", fromFile.StandardOutput);
        }

        var fromStdin = await LuaActorsCli.RunAsync(
            fixture.Url, fixture.Token, ["vm", "exec", id, "--file", "-"], stdin: "return counter * 2");
        AssertOk(fromStdin);
        Assert.Equal("82\n", fromStdin.StandardOutput);

        var repl = await RunAsync("vm", "exec", id, "--repl", "counter");
        AssertOk(repl);
        Assert.Equal("41\n", repl.StandardOutput);

        var timeout = await RunAsync("vm", "exec", id, "--timeout-ms", "200", "while true do end");
        Assert.Equal(1, timeout.ExitCode);
        Assert.StartsWith("timeout:", timeout.StandardError);
    }

    [Fact]
    public async Task Json_output_is_the_apis_json()
    {
        var id = ManagerFixture.NewId("cli");
        var created = await RunAsync("vm", "create", id, "--json");
        AssertOk(created);
        Assert.Equal(id, JsonDocument.Parse(created.StandardOutput).RootElement.GetProperty("id").GetString());

        var list = await RunAsync("vm", "ls", "--json");
        AssertOk(list);
        Assert.Contains(JsonDocument.Parse(list.StandardOutput).RootElement.GetProperty("vms").EnumerateArray(),
            vm => vm.GetProperty("id").GetString() == id);

        var exec = await RunAsync("vm", "exec", id, "--json", "return 1, 2.5");
        AssertOk(exec);
        Assert.Equal("""{"ok":true,"count":2,"values":[1,2.5],"output":"","outputTruncated":false}""", exec.StandardOutput.TrimEnd());

        var failed = await RunAsync("vm", "exec", id, "--json", "error('x')");
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal("runtime", JsonDocument.Parse(failed.StandardOutput).RootElement.GetProperty("error").GetProperty("kind").GetString());

        var cluster = await RunAsync("cluster", "--json");
        AssertOk(cluster);
        Assert.Equal(fixture.Node.Address.ToString(), JsonDocument.Parse(cluster.StandardOutput).RootElement.GetProperty("self").GetString());

        var duplicate = await RunAsync("vm", "create", id, "--json");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal("already-exists", JsonDocument.Parse(duplicate.StandardOutput).RootElement.GetProperty("error").GetProperty("kind").GetString());
        Assert.StartsWith("already-exists: ", duplicate.StandardError);
    }

    [Fact]
    public async Task Cluster_prints_a_table_of_members()
    {
        var result = await RunAsync("cluster");
        AssertOk(result);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ADDRESS\s+STATUS\s+REACHABLE\s+ROLES\s+VMS$", lines[0]);
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(fixture.Node.Address.ToString())}\s+up\s+yes\s+-\s+\d+\s+leader, this node$", lines[1]);
        Assert.Matches(@"^1 members, \d+ VMs$", lines[2]);
    }

    [Fact]
    public async Task Without_the_token_the_node_refuses_with_exit_1()
    {
        var result = await RunWithTokenAsync(null, "vm", "ls");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("unauthorized: ", result.StandardError);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_exits_1_with_a_clear_message()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var result = await RunAsync("cluster", "--node", $"http://127.0.0.1:{port}");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"luaactors: cannot reach the node at http://127.0.0.1:{port}/", result.StandardError);
    }

    [Theory]
    [InlineData("vm")]
    [InlineData("vm", "frob")]
    [InlineData("vm", "create")]
    [InlineData("vm", "create", "a", "--timeout-ms", "soon")]
    [InlineData("vm", "create", "a", "--config", "novalue")]
    [InlineData("vm", "ls", "extra")]
    [InlineData("vm", "exec", "only-id")]
    [InlineData("vm", "exec", "a", "-f", "/nonexistent/file.lua")]
    [InlineData("vm", "info", "a", "--bogus")]
    [InlineData("cluster", "--node", "ftp://example.org")]
    [InlineData("cluster", "--token")]
    [InlineData("vm", "create", "..")]
    [InlineData("vm", "info", ".")]
    [InlineData("vm", "exec", ".hidden", "return 1")]
    [InlineData("vm", "rm", "a b")]
    [InlineData("vm", "link", "a", "..")]
    [InlineData("attach", "..")]
    public async Task Bad_arguments_exit_2(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("luaactors: ", result.StandardError);
    }
}
