using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.TestKit.Sample;

/// <summary>The pricing rules, tested in a real Lua VM: results, errors, time limits, state.</summary>
public sealed class PricingRulesTests() : LuaActorsTestKit("luaactors.vm.default-timeout = 2s")
{
    [Fact]
    public async Task Rules_return_floats_integers_strings_and_tables()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await AssertLuaAsync(rules, "return price(100, 'gold')", 80.0);   // a float
        await AssertLuaAsync(rules, "return price(100, 'copper')", 100.0);
        await AssertLuaAsync(rules, "return points(95)", 9);              // an integer
        await AssertLuaAsync(rules, "return type(price)", "function");
        await AssertLuaAsync(rules, "return tier_names()", new[] { "gold", "silver" });
        await AssertLuaAsync(rules, "return { gold = price(10, 'gold') }", new Dictionary<string, object> { ["gold"] = 8.0 });
        await AssertLuaValuesAsync(rules, "return points(10), points(25)", 1, 2);
    }

    [Fact]
    public async Task A_bad_argument_is_a_runtime_error_naming_the_problem()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var error = await AssertLuaErrorAsync(rules, "return price('ten', 'gold')", ErrorKind.Runtime, "total must be a number, got string");

        Assert.IsType<LuaException>(error);
    }

    [Fact]
    public async Task Code_that_does_not_compile_is_a_syntax_error()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await AssertLuaErrorAsync(rules, "return price(100,", ErrorKind.Syntax);
    }

    [Fact]
    public async Task A_rule_that_never_ends_times_out_and_the_vm_keeps_its_state()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);
        await AssertLuaAsync(rules, "return price(50, 'silver')", 45.0);

        // The time limit: default-timeout (2 s here, from the HOCON above), or one per call.
        await AssertLuaErrorAsync(rules, "recompute_forever()", ErrorKind.Timeout, options: new ExecuteOptions(TimeoutMs: 300));

        await AssertLuaAsync(rules, "return quotes_made()", 1);
    }

    [Fact]
    public async Task State_is_kept_between_calls()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await rules.ExecuteAsync("price(10, 'gold') price(20, 'silver')");
        await AssertLuaAsync(rules, "return quotes_made()", 2);
        await rules.ExecuteAsync("extra_tier = 'platinum'");
        await AssertLuaAsync(rules, "return extra_tier", "platinum");
    }

    [Fact]
    public async Task What_the_code_printed_comes_with_the_result()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var result = await AssertLuaAsync(rules, "print('quoting') return points(30)", 3);

        Assert.Equal("quoting\n", result.Output);
    }

    [Fact]
    public async Task An_init_script_that_fails_refuses_the_vm()
    {
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() => CreateVmAsync("error('rules file is broken')"));

        Assert.Equal(ErrorKind.InitFailed, error.Kind);
    }
}
