using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Every kind of Lua value comes back typed and exact, and encoding never runs user code.</summary>
public sealed class ValueEncodingTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private async Task<Api.ExecuteResult> RunAsync(string code)
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("values"));
        return await vm.ExecuteAsync(code);
    }

    [Fact]
    public async Task Sqrt_is_a_float_and_converts_to_double()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId());
        Assert.Equal(4.0, await vm.ExecuteAsync<double>("return math.sqrt(16)"));
        var result = await vm.ExecuteAsync("return math.sqrt(16)");
        Assert.Equal("4.0", result.Value.GetRawText());
        Assert.False(result.IsInteger());
    }

    [Fact]
    public async Task Integers_and_floats_stay_apart_and_exact()
    {
        var result = await RunAsync("return 1 + 1, math.maxinteger, math.mininteger, 2^53, 0.1, 1e300, -0.5, 3 // 2, 3 / 2");
        Assert.Equal("[2,9223372036854775807,-9223372036854775808,9007199254740992.0,0.1,1e+300,-0.5,1,1.5]", result.ValuesJson);
        Assert.True(result.IsInteger(0));
        Assert.Equal(long.MaxValue, result.Get<long>(1));
        Assert.Equal(long.MinValue, result.Get<long>(2));
        Assert.False(result.IsInteger(3));
        Assert.Equal(0.1, result.Get<double>(4));
        Assert.True(result.IsInteger(7));
        Assert.False(result.IsInteger(8));
    }

    [Fact]
    public async Task Nil_booleans_and_trailing_nils_count()
    {
        var result = await RunAsync("return nil, true, false, nil, nil");
        Assert.Equal(5, result.Count);
        Assert.Equal("[null,true,false,null,null]", result.ValuesJson);
        Assert.True(result.Get<bool>(1));
    }

    [Fact]
    public async Task No_return_values()
    {
        var result = await RunAsync("local x = 1");
        Assert.Equal(0, result.Count);
        Assert.Equal("[]", result.ValuesJson);
    }

    [Fact]
    public async Task Strings_utf8_and_raw_bytes_survive()
    {
        var result = await RunAsync("return 'héllo \"quoted\"\\n\\t', '\\xff\\xfe\\0abc', ''");
        Assert.Equal("héllo \"quoted\"\n\t", result.Get<string>(0));
        Assert.Equal(new byte[] { 0xff, 0xfe, 0, (byte)'a', (byte)'b', (byte)'c' }, result.GetBytes(1));
        Assert.Equal("bytes", result.Values[1].GetProperty("$type").GetString());
        Assert.Equal("", result.Get<string>(2));
    }

    [Fact]
    public async Task Nested_tables_become_arrays_and_objects()
    {
        var result = await RunAsync("return {1, 2, {a = 1, b = {true}}}, {[1] = 'x', [3] = 'y'}, {}, {[2.5] = 1}");
        Assert.Equal("[1,2,{\"a\":1,\"b\":[true]}]", result.Values[0].GetRawText());
        Assert.Equal("{\"1\":\"x\",\"3\":\"y\"}", result.Values[1].GetRawText());
        Assert.Equal("{}", result.Values[2].GetRawText());
        Assert.Equal("{\"2.5\":1}", result.Values[3].GetRawText());
        Assert.Equal(new long[] { 1, 2 }, (await RunAsync("return {1, 2}")).Get<long[]>());
    }

    [Fact]
    public async Task Functions_userdata_threads_and_cycles_are_typed_placeholders()
    {
        var result = await RunAsync("local t = {} t.self = t return print, coroutine.create(print), t");
        Assert.Equal("function", result.Values[0].GetProperty("$type").GetString());
        Assert.StartsWith("0x", result.Values[0].GetProperty("id").GetString());
        Assert.Equal("thread", result.Values[1].GetProperty("$type").GetString());
        Assert.Equal("cycle", result.Values[2].GetProperty("self").GetProperty("$type").GetString());
    }

    [Fact]
    public async Task Nan_and_infinities_do_not_break_json()
    {
        var result = await RunAsync("return 0/0, 1/0, -1/0");
        Assert.Equal(["nan", "inf", "-inf"], result.Values.Select(v => v.GetProperty("value").GetString()));
        Assert.All(result.Values, v => Assert.Equal("float", v.GetProperty("$type").GetString()));
    }

    [Fact]
    public async Task Encoding_never_runs_metamethods()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId());
        var result = await vm.ExecuteAsync("""
            touched = false
            local mt = {
              __index = function() touched = true return 1 end,
              __len = function() touched = true return 99 end,
              __pairs = function() touched = true error("no") end,
              __tostring = function() touched = true return "x" end,
              __name = "Evil",
            }
            return setmetatable({10, 20}, mt)
            """);
        Assert.Equal("[10,20]", result.Value.GetRawText());
        Assert.False(await vm.ExecuteAsync<bool>("return touched"));
    }

    [Fact]
    public async Task A_wrong_type_request_is_a_clear_cast_error()
    {
        var result = await RunAsync("return 'text'");
        var error = Assert.Throws<InvalidCastException>(() => result.Get<long>());
        Assert.Contains("\"text\"", error.Message);
        Assert.Equal(JsonValueKind.String, result.Value.ValueKind);
    }
}
