using Akka.Actor;
using LuaActors.Api;

namespace LuaActors.TestKit.Sample;

public sealed record Quote(double Total, string Tier);

public sealed record Quoted(double Price);

public sealed record QuoteFailed(string Reason);

/// <summary>The application's actor: answers quotes by running the pricing rules in a Lua VM.</summary>
public sealed class QuoteActor : ReceiveActor
{
    public QuoteActor(LuaVm rules)
    {
        Receive<Quote>(quote =>
        {
            // The VM call is asynchronous: its answer comes back as a message, the actor never blocks.
            rules.ExecuteAsync($"return price({quote.Total.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, {Lua(quote.Tier)})")
                .PipeTo(Sender,
                    success: result => new Quoted(result.Get<double>()),
                    failure: error => new QuoteFailed(error.Message));
        });
    }

    public static Props Props(LuaVm rules) => Akka.Actor.Props.Create(() => new QuoteActor(rules));

    private static string Lua(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
