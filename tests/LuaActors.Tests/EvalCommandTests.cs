using System.Text;
using CliWrap;
using CliWrap.Buffered;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The real `luaactors eval` program: output, exit codes, options, and no leaked VM.</summary>
public sealed class EvalCommandTests
{
    private static readonly string Program = TestPaths.LuaActorsDll;

    private static async Task<BufferedCommandResult> EvalAsync(params string[] args) =>
        await Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, .. args])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8);

    [Fact]
    public async Task One_value_prints_as_itself()
    {
        var result = await EvalAsync("eval", "return math.sqrt(16)");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("4.0\n", result.StandardOutput);
    }

    [Fact]
    public async Task Output_first_then_several_values_as_an_array()
    {
        var result = await EvalAsync("eval", "print('hello') return 1, 'two', {3}");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hello\n[1,\"two\",[3]]\n", result.StandardOutput);
    }

    [Fact]
    public async Task No_values_print_nothing()
    {
        var result = await EvalAsync("eval", "local x = 1");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task A_lua_error_exits_1_with_kind_and_message_on_stderr()
    {
        var result = await EvalAsync("eval", "print('partial') error('bad thing')");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("partial\n", result.StandardOutput);
        Assert.StartsWith("runtime: exec:1: bad thing", result.StandardError);
    }

    [Fact]
    public async Task Timeout_and_memory_options_apply()
    {
        var timeout = await EvalAsync("eval", "--timeout-ms", "200", "while true do end");
        Assert.Equal(1, timeout.ExitCode);
        Assert.StartsWith("timeout:", timeout.StandardError);

        var memory = await EvalAsync("eval", "--memory-mb", "16", "local t = {} for i = 1, 1e8 do t[i] = i end");
        Assert.Equal(1, memory.ExitCode);
        Assert.StartsWith("memory:", memory.StandardError);
    }

    [Fact]
    public async Task Code_from_a_file()
    {
        using var file = await TempFile.WithTextAsync("local a = 20\nreturn a + 22\n");
        var result = await EvalAsync("eval", "-f", file.Path);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("42\n", result.StandardOutput);
    }

    [Theory]
    [InlineData("eval")]
    [InlineData("eval", "--timeout-ms", "soon", "return 1")]
    [InlineData("eval", "--bogus", "return 1")]
    [InlineData("eval", "return 1", "return 2")]
    [InlineData("eval", "-f", "/nonexistent/file.lua")]
    [InlineData("frobnicate")]
    public async Task Bad_arguments_exit_2(params string[] args)
    {
        var result = await EvalAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("luaactors:", result.StandardError);
    }

    [Fact]
    public async Task Unknown_type_exits_1()
    {
        var result = await EvalAsync("eval", "--type", "nope", "return 1");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("unknown-type:", result.StandardError);
    }

    [Fact]
    public async Task Sigkill_of_the_dotnet_process_leaves_no_lua_process()
    {
        using var stop = new CancellationTokenSource();
        var running = Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, "eval", "--timeout-ms", "600000", "while true do end"])
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(stop.Token);
        var hostPid = running.ProcessId;
        IReadOnlyList<int> vms = [];
        for (var i = 0; i < 600 && vms.Count == 0; i++)
        {
            await Task.Delay(50);
            vms = LuaProcesses.StartedBy(hostPid);
        }

        Assert.Single(vms);
        // CliWrap kills the host with SIGKILL: no chance to clean up.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await running);
        await LuaProcesses.AssertGoneAsync(vms);
    }
}
