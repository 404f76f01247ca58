using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>State, output, errors, REPL lines and pipelining through the embedding API.</summary>
public sealed class ExecutionTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private Task<LuaVm> NewVmAsync(VmOptions? options = null) =>
        fixture.Manager.CreateVmAsync(ManagerFixture.NewId("exec"), options);

    [Fact]
    public async Task Globals_persist_between_requests_until_reset()
    {
        var vm = await NewVmAsync();
        await vm.ExecuteAsync("x = 41; function inc(n) return n + 1 end");
        Assert.Equal(42, await vm.ExecuteAsync<long>("return inc(x)"));
        await vm.ResetAsync();
        Assert.Equal("[null,null]", (await vm.ExecuteAsync("return x, inc")).ValuesJson);
    }

    [Fact]
    public async Task Print_output_is_captured_per_request()
    {
        var vm = await NewVmAsync();
        var result = await vm.ExecuteAsync("print('a', 1, nil, 2.5) print() return 'done'");
        Assert.Equal("a\t1\tnil\t2.5\n\n", result.Output);
        Assert.False(result.OutputTruncated);
        Assert.Equal("", (await vm.ExecuteAsync("return 1")).Output);
    }

    [Fact]
    public async Task Print_output_is_capped_with_a_marker()
    {
        var vm = await NewVmAsync(new VmOptions { Limits = new VmLimits(OutputCapBytes: 100) });
        var result = await vm.ExecuteAsync("for i = 1, 100 do print(string.rep('x', 50)) end return 7");
        Assert.True(result.OutputTruncated);
        Assert.Contains("[output truncated]", result.Output);
        Assert.True(result.Output.Length < 200, result.Output);
        Assert.Equal(7, result.Get<long>());
    }

    [Fact]
    public async Task Syntax_errors_are_typed()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<LuaException>(() => vm.ExecuteAsync("return return"));
        Assert.Equal(ErrorKind.Syntax, error.Kind);
        Assert.Contains("exec:1:", error.LuaMessage);
    }

    [Fact]
    public async Task Runtime_errors_carry_message_traceback_and_output()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<LuaException>(() => vm.ExecuteAsync("""
            print("before")
            local function inner() error("boom") end
            inner()
            """));
        Assert.Equal(ErrorKind.Runtime, error.Kind);
        Assert.Contains("boom", error.LuaMessage);
        Assert.Contains("inner", error.Traceback);
        Assert.Equal("before\n", error.Output);
        // The VM is fine afterwards.
        Assert.Equal(1, await vm.ExecuteAsync<long>("return 1"));
    }

    [Fact]
    public async Task Error_values_that_are_not_strings_are_reported()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<LuaException>(() =>
            vm.ExecuteAsync("error(setmetatable({}, {__tostring = function() touched = true return 'x' end}))"));
        Assert.Equal(ErrorKind.Runtime, error.Kind);
        Assert.Contains("table", error.LuaMessage);
        Assert.Equal("[null]", (await vm.ExecuteAsync("return touched")).ValuesJson);
    }

    [Fact]
    public async Task Repl_lines_behave_like_lua_interactive()
    {
        var vm = await NewVmAsync();
        Assert.Equal(2, (await vm.EvalAsync("1 + 1")).Get<long>());
        Assert.Equal(0, (await vm.EvalAsync("y = 5")).Count);
        Assert.Equal(5, (await vm.EvalAsync("y")).Get<long>());
        var incomplete = await Assert.ThrowsAsync<LuaException>(() => vm.EvalAsync("function f()"));
        Assert.Equal(ErrorKind.Incomplete, incomplete.Kind);
        Assert.Equal(3, (await vm.EvalAsync("(function() return 3 end)()")).Get<long>());
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        var vm = await NewVmAsync();
        await vm.ExecuteAsync("n = 0");
        var calls = Enumerable.Range(1, 300).Select(_ => vm.ExecuteAsync<long>("n = n + 1 return n")).ToList();
        var results = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i).ToArray(), results);
        var info = await vm.GetInfoAsync();
        Assert.Equal(0, info.PendingRequests);
    }

    [Fact]
    public async Task Info_describes_a_running_vm()
    {
        var vm = await NewVmAsync();
        var info = await vm.GetInfoAsync();
        Assert.Equal(vm.Id, info.VmId);
        Assert.Equal("basic", info.Type);
        Assert.Equal(VmState.Running, info.State);
        Assert.NotNull(info.ProcessId);
        Assert.True(LuaProcesses.IsAlive(info.ProcessId!.Value));
        Assert.True(info.ResidentBytes > 0);
        Assert.Equal(0, info.Restarts);
        Assert.StartsWith("akka://test", info.Node);
        Assert.Equal("Lua 5.4", (await vm.PingAsync()).LuaVersion);
    }

    [Fact]
    public async Task List_and_remove()
    {
        var vm = await NewVmAsync();
        Assert.Contains(await fixture.Manager.ListVmsAsync(), v => v.VmId == vm.Id && v.State == VmState.Running);
        var pid = (await vm.GetInfoAsync()).ProcessId!.Value;
        await vm.RemoveAsync();
        await LuaProcesses.AssertGoneAsync([pid]);
        Assert.DoesNotContain(await fixture.Manager.ListVmsAsync(), v => v.VmId == vm.Id);
        await Assert.ThrowsAsync<VmNotFoundException>(() => vm.ExecuteAsync("return 1"));
        await Assert.ThrowsAsync<VmNotFoundException>(() => vm.GetInfoAsync());
        await Assert.ThrowsAsync<VmNotFoundException>(() => vm.RemoveAsync());
    }

    [Fact]
    public async Task Bad_request_limits_are_refused()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<InvalidVmRequestException>(() => vm.ExecuteAsync("return 1", new ExecuteOptions(TimeoutMs: -1)));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
    }

    [Fact]
    public async Task Cancellation_ends_the_wait()
    {
        var vm = await NewVmAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            vm.ExecuteAsync("local t = os.clock() while os.clock() - t < 1 do end", cancellationToken: cancel.Token));
    }
}
