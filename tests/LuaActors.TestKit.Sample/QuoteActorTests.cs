using Akka.Actor;
using Xunit.Abstractions;

namespace LuaActors.TestKit.Sample;

/// <summary>The application's actor over a Lua VM, driven with the TestKit's messages (the actor system's log goes to the test's output).</summary>
public sealed class QuoteActorTests(ITestOutputHelper output) : LuaActorsTestKit(output: output)
{
    [Fact]
    public async Task A_quote_is_answered_with_the_rules_price()
    {
        var rules = await CreateVmAsync(PricingRules.Lua);
        var quotes = Sys.ActorOf(QuoteActor.Props(rules));

        quotes.Tell(new Quote(200, "silver"));

        Assert.Equal(180.0, (await ExpectMsgAsync<Quoted>()).Price);
    }

    [Fact]
    public async Task A_failing_rule_is_answered_with_the_lua_error()
    {
        var rules = await CreateVmAsync(PricingRules.Lua + "\nfunction price() error('pricing is closed') end");
        var quotes = Sys.ActorOf(QuoteActor.Props(rules));

        quotes.Tell(new Quote(200, "silver"));

        Assert.Contains("pricing is closed", (await ExpectMsgAsync<QuoteFailed>()).Reason);
    }
}
