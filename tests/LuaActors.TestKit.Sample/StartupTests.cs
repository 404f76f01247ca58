using Akka.Actor;
using Akka.Hosting;
using LuaActors.Api;

namespace LuaActors.TestKit.Sample;

/// <summary>
/// The application's own start-up wiring, run by the TestKit's host: it loads the rules into a
/// VM and registers the quote actor over it, as the application's Program does.
/// </summary>
public sealed class StartupTests : LuaActorsTestKit
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider services) =>
        builder.StartActors(async (system, registry) =>
        {
            var rules = await system.GetVmManager().CreateVmAsync("rules", new VmOptions { InitScript = PricingRules.Lua });
            registry.Register<QuoteActor>(system.ActorOf(QuoteActor.Props(rules), "quotes"));
        });

    [Fact]
    public async Task The_application_starts_with_its_rules_and_its_quote_actor()
    {
        var quotes = await ActorRegistry.For(Sys).GetAsync<QuoteActor>();

        quotes.Tell(new Quote(100, "gold"));

        Assert.Equal(80.0, (await ExpectMsgAsync<Quoted>()).Price);
        await AssertLuaAsync(Manager.GetVm("rules"), "return quotes_made()", 1);
    }
}
