using LuaActors.Messages;

namespace LuaActors.TestKit.Sample;

/// <summary>The assertions fail when they should, with messages that say why (a helper that always passed would fail here).</summary>
public sealed class TestKitAssertionTests : LuaActorsTestKit
{
    [Fact]
    public async Task A_wrong_value_fails_showing_expected_actual_and_output()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var failure = await Assert.ThrowsAsync<LuaAssertException>(
            () => AssertLuaAsync(rules, "print('computing') return points(95)", 10));

        Assert.Contains("return points(95)", failure.Message);
        Assert.Contains("expected: 10 (integer)", failure.Message);
        Assert.Contains("actual:   9 (integer)", failure.Message);
        Assert.Contains("computing", failure.Message);
    }

    [Fact]
    public async Task An_integer_is_not_a_float()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var failure = await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return price(100, 'gold')", 80));

        Assert.Contains("expected: 80 (integer)", failure.Message);
        Assert.Contains("actual:   80.0 (float)", failure.Message);
    }

    [Fact]
    public async Task Tables_strings_and_counts_must_match()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return tier_names()", new[] { "silver", "gold" }));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return tier_names()", new[] { "gold" }));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return { a = 1 }", new Dictionary<string, object> { ["a"] = 1, ["b"] = 2 }));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return 'gold'", "Gold"));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return 1, 2", 1));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return nil", false));
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaValuesAsync(rules, "return 1, 2", 1, 3));
    }

    [Fact]
    public async Task An_error_where_a_value_was_expected_fails_with_the_lua_error()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var failure = await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(rules, "return price('x')", 1.0));

        Assert.Contains("Runtime error", failure.Message);
        Assert.Contains("total must be a number", failure.Message);
    }

    [Fact]
    public async Task An_error_assertion_fails_when_the_code_succeeds_or_fails_otherwise()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        var succeeded = await Assert.ThrowsAsync<LuaAssertException>(
            () => AssertLuaErrorAsync(rules, "print('no problem') return points(10)", ErrorKind.Runtime));
        Assert.Contains("it returned 1 (integer)", succeeded.Message);
        Assert.Contains("no problem", succeeded.Message);

        var otherKind = await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaErrorAsync(rules, "return (", ErrorKind.Runtime));
        Assert.Contains("expected: a Runtime error", otherKind.Message);
        Assert.Contains("Syntax error", otherKind.Message);

        await Assert.ThrowsAsync<LuaAssertException>(
            () => AssertLuaErrorAsync(rules, "return price('x')", ErrorKind.Runtime, "some other message"));
    }

    [Fact]
    public async Task Waiting_for_something_that_never_comes_fails()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        await Assert.ThrowsAsync<LuaAssertException>(() => ExpectFromVmAsync(rules, TimeSpan.FromMilliseconds(200)));
        await Assert.ThrowsAsync<LuaAssertException>(() => ExpectInInboxAsync(rules, TimeSpan.FromMilliseconds(200)));
        await rules.ExecuteAsync("vm.send('$host', 'late')");
        await Assert.ThrowsAsync<LuaAssertException>(() => ExpectValueFromVmAsync(rules, "early"));
    }

    [Fact]
    public async Task Each_test_has_a_fresh_actor_system_and_its_vms_run_as_processes()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);

        Assert.Equal(["vm-1"], (await Manager.ListVmsAsync()).Select(vm => vm.VmId));
        Assert.NotNull((await rules.GetInfoAsync()).ProcessId);
    }
}
