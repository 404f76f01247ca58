using System.CommandLine;
using System.CommandLine.Parsing;

namespace LuaActors.Host;

/// <summary>The seed discovery flags of <c>luaactors node</c> (<see cref="DiscoverySettings"/>, docs/operations.md).</summary>
internal static class DiscoveryFlags
{
    /// <summary>Adds the flags to the <c>node</c> command.</summary>
    public static void AddTo(Command command)
    {
        command.Options.Add(new Option<string?>("--discovery")
        {
            Description = "How the node finds its seeds: none (--seed, as given), config (--discovery-endpoints) or " +
                "kubernetes (the pods labelled app=SERVICE) [LUAACTORS_DISCOVERY] (none).",
            HelpName = "none|config|kubernetes",
        }.AcceptOnlyFromAmong("none", "config", "kubernetes"));
        command.Options.Add(new Option<string?>("--discovery-service")
        {
            Description = "The service discovery looks up; in Kubernetes the pods' app label [LUAACTORS_DISCOVERY_SERVICE] (luaactors).",
            HelpName = "NAME",
        });
        command.Options.Add(new Option<string[]>("--discovery-endpoints")
        {
            Description = "With --discovery config: every node's management endpoint, this one's included, comma-separated " +
                "[LUAACTORS_DISCOVERY_ENDPOINTS].",
            HelpName = "HOST:PORT,…",
            AllowMultipleArgumentsPerToken = false,
        });
        command.Options.Add(new Option<int?>("--management-port")
        {
            Description = "The Akka.Management HTTP port the peers' Cluster Bootstrap probes, on --hostname " +
                "[LUAACTORS_MANAGEMENT_PORT] (8558).",
            HelpName = "PORT",
            CustomParser = result => Parse(result, text => NodeSettings.ParsePort("--management-port", text)),
        });
        command.Options.Add(new Option<int?>("--required-contact-points")
        {
            Description = "How many nodes discovery must find before the lowest forms a new cluster " +
                "[LUAACTORS_REQUIRED_CONTACT_POINTS] (3; config: at most the endpoints listed).",
            HelpName = "N",
            CustomParser = result => Parse(result, text => int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n : throw new NodeOptionsException($"--required-contact-points needs a number of nodes, 1 or more (got '{text}')")),
        });
    }

    /// <summary>The flags as given (nulls where not given).</summary>
    public static DiscoveryOptions Read(ParseResult result) => new()
    {
        Method = result.GetValue<string?>("--discovery"),
        Service = result.GetValue<string?>("--discovery-service"),
        Endpoints = result.GetValue<string[]>("--discovery-endpoints") ?? [],
        ManagementPort = result.GetValue<int?>("--management-port"),
        RequiredContactPoints = result.GetValue<int?>("--required-contact-points"),
    };

    private static int? Parse(ArgumentResult result, Func<string, int> parse)
    {
        try
        {
            return parse(result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value);
        }
        catch (NodeOptionsException e)
        {
            result.AddError(e.Message);
            return null;
        }
    }
}
