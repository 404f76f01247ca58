using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The runaway catalogue: each bomb ends with a typed error within its limit plus a generous
/// margin (a liveness check, not a speed measurement), and the VM answers afterwards.
/// </summary>
public sealed class RunawayTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private const int LimitMs = 500;
    // Memory bombs (and deep recursion) get time enough that only memory or the stack can stop
    // them, even on a busy machine.
    private const int MemoryBombLimitMs = 20_000;
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(15);

    private async Task<LuaVm> NewVmAsync() =>
        await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("runaway"), new VmOptions
        {
            Limits = new VmLimits(TimeoutMs: LimitMs, MemoryMb: 64),
            InitScript = "booted = (booted or 0) + 1",
        });

    /// <summary>Runs <paramref name="bomb"/>, expects <paramref name="kind"/>, then checks the VM still answers.</summary>
    private static async Task<LuaException> ExpectAsync(
        LuaVm vm, string bomb, ErrorKind kind, bool stateSurvives = true, int limitMs = LimitMs)
    {
        await vm.ExecuteAsync("kept = 'state'");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LuaException>(() => vm.ExecuteAsync(bomb, new ExecuteOptions(TimeoutMs: limitMs)));
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(limitMs) + Margin, $"took {clock.Elapsed}");
        Assert.Equal(kind, error.Kind);
        // The same process answers with its globals, or (after a kill) a new one that ran the init script once.
        var after = await vm.ExecuteAsync("return kept, booted");
        Assert.Equal(stateSurvives ? "[\"state\",1]" : "[null,1]", after.ValuesJson);
        return error;
    }

    [Fact]
    public async Task Empty_infinite_loop() =>
        await ExpectAsync(await NewVmAsync(), "while true do end", ErrorKind.Timeout);

    [Fact]
    public async Task Pcall_loop_cannot_swallow_the_timeout() =>
        await ExpectAsync(await NewVmAsync(), "while true do pcall(function() while true do end end) end", ErrorKind.Timeout);

    [Fact]
    public async Task Xpcall_with_a_handler_cannot_swallow_the_timeout() =>
        await ExpectAsync(await NewVmAsync(),
            "while true do xpcall(function() while true do end end, function(e) return e end) end", ErrorKind.Timeout);

    [Fact]
    public async Task Runaway_coroutine() =>
        await ExpectAsync(await NewVmAsync(), "local co = coroutine.wrap(function() while true do end end) co()", ErrorKind.Timeout);

    [Fact]
    public async Task Coroutine_created_earlier_obeys_the_later_request()
    {
        var vm = await NewVmAsync();
        await vm.ExecuteAsync("spin = coroutine.create(function() while true do end end)");
        await ExpectAsync(vm, "coroutine.resume(spin)", ErrorKind.Timeout);
    }

    [Fact]
    public async Task Pattern_bomb_in_C_is_killed_after_the_grace_and_the_vm_restarts()
    {
        var vm = await NewVmAsync();
        var error = await ExpectAsync(vm,
            "return string.find(string.rep('a', 40), string.rep('a-', 40) .. 'b')", ErrorKind.Timeout, stateSurvives: false);
        Assert.Contains("grace", error.LuaMessage);
        Assert.Equal(1, (await vm.GetInfoAsync()).Restarts);
    }

    [Fact]
    public async Task String_rep_bomb_is_refused()
    {
        var vm = await NewVmAsync();
        var error = await ExpectAsync(vm, "return string.rep('x', 2^31)", ErrorKind.Runtime);
        Assert.Contains("too large", error.LuaMessage);
        await ExpectAsync(vm, "return ('x'):rep(2^31)", ErrorKind.Runtime);
        await ExpectAsync(vm, "return ('xy'):rep(2^20, string.rep(',', 2^10))", ErrorKind.Runtime);
    }

    [Fact]
    public async Task Table_growth_hits_the_memory_limit() =>
        await ExpectAsync(await NewVmAsync(), "local t = {} for i = 1, 1e9 do t[i] = i end", ErrorKind.Memory, limitMs: MemoryBombLimitMs);

    [Fact]
    public async Task String_doubling_hits_the_memory_limit() =>
        await ExpectAsync(await NewVmAsync(), "local s = 'x' for i = 1, 40 do s = s .. s end", ErrorKind.Memory, limitMs: MemoryBombLimitMs);

    [Fact]
    public async Task Per_request_memory_limit_is_lower()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<LuaException>(() =>
            vm.ExecuteAsync("local t = {} for i = 1, 1e7 do t[i] = i end", new ExecuteOptions(TimeoutMs: MemoryBombLimitMs, MemoryMb: 8)));
        Assert.Equal(ErrorKind.Memory, error.Kind);
        await vm.ExecuteAsync("local t = {} for i = 1, 1e6 do t[i] = i end");
    }

    [Fact]
    public async Task Per_request_time_limit()
    {
        var vm = await NewVmAsync();
        var error = await Assert.ThrowsAsync<LuaException>(() =>
            vm.ExecuteAsync("while true do end", new ExecuteOptions(TimeoutMs: 100)));
        Assert.Equal(ErrorKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task Deep_recursion_is_an_ordinary_error() =>
        await ExpectAsync(await NewVmAsync(), "local function f() return 1 + f() end return f()", ErrorKind.Runtime, limitMs: MemoryBombLimitMs);
}
