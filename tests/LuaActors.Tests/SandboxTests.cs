using LuaActors.Api;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Escapes from the sandbox that must fail.</summary>
public sealed class SandboxTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    [Theory]
    [InlineData("return io, require, package, debug, dofile, loadfile, warn, string.dump, os.execute, os.exit, os.getenv, os.remove")]
    [InlineData("return rawget(_G, 'io'), _G.io, _ENV.os.execute")]
    [InlineData("return load('return io, os.execute')()")]
    [InlineData("return (function() local _ENV = _G return io end)()")]
    public async Task Dangerous_globals_are_absent(string code)
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("sandbox"));
        var result = await vm.ExecuteAsync(code);
        Assert.All(result.Values, v => Assert.Equal(System.Text.Json.JsonValueKind.Null, v.ValueKind));
    }

    [Theory]
    [InlineData("return load(string.char(27) .. 'Lua')")]
    [InlineData("return setmetatable({}, {__gc = function() end})")]
    [InlineData("return collectgarbage('stop')")]
    [InlineData("return collectgarbage('generational')")]
    [InlineData("return getmetatable('').__index")]
    [InlineData("string.dump(print)")]
    [InlineData("return require('os')")]
    public async Task Escapes_fail(string code)
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("sandbox"));
        var failed = false;
        try
        {
            var result = await vm.ExecuteAsync(code);
            // load() of a binary chunk returns nil plus a message instead of raising.
            failed = result.Values[0].ValueKind == System.Text.Json.JsonValueKind.Null;
        }
        catch (LuaException)
        {
            failed = true;
        }

        Assert.True(failed);
    }

    [Fact]
    public async Task Harmless_parts_of_os_and_the_libraries_remain()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("sandbox"));
        var result = await vm.ExecuteAsync(
            "return type(os.time()), type(os.clock()), type(os.date('%Y')), os.difftime(2, 1), math.floor(2.5), table.concat({1, 2}, ','), utf8.char(233), collectgarbage('count') > 0");
        Assert.Equal("[\"number\",\"number\",\"string\",1.0,2,\"1,2\",\"é\",true]", result.ValuesJson);
    }

    [Fact]
    public async Task Load_of_text_runs_in_the_sandbox()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("sandbox"));
        await vm.ExecuteAsync("shared = 5");
        Assert.Equal(6, await vm.ExecuteAsync<long>("return load('return shared + 1')()"));
        Assert.Equal(3, await vm.ExecuteAsync<long>("return load('return a + b', 'chunk', 't', {a = 1, b = 2})()"));
    }

    [Fact]
    public async Task Users_who_break_the_string_table_do_not_break_the_vm()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("sandbox"));
        await vm.ExecuteAsync("string.format = nil; string.sub = nil; string.rep = nil; table.concat = nil; print = nil");
        var result = await vm.ExecuteAsync("return 'still', 1.5, {1}");
        Assert.Equal("[\"still\",1.5,[1]]", result.ValuesJson);
    }
}
