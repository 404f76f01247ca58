using System.Globalization;
using Akka.Configuration;

namespace LuaActors.Host;

/// <summary>
/// How a node finds its seeds, resolved like the rest of <see cref="NodeSettings"/>: flag, then
/// <c>LUAACTORS_*</c> variable, then <c>luaactors.node.discovery</c> in the config file and in
/// hocon/node.conf. With a method other than <see cref="DiscoveryMethod.None"/> the node starts
/// Akka.Management's HTTP endpoint and Cluster Bootstrap (<see cref="DiscoveryWiring"/>).
/// </summary>
internal sealed record DiscoverySettings(
    DiscoveryMethod Method,
    string Service,
    IReadOnlyList<string> Endpoints,
    int ManagementPort,
    int RequiredContactPoints)
{
    /// <summary>Static seeds, no management endpoint.</summary>
    public static readonly DiscoverySettings None = new(DiscoveryMethod.None, "luaactors", [], 8558, 0);

    /// <summary>The environment variables of the discovery flags, each with its flag.</summary>
    public static readonly IReadOnlyList<(string Variable, string Flag)> EnvironmentVariables =
    [
        ("LUAACTORS_DISCOVERY", "--discovery"),
        ("LUAACTORS_DISCOVERY_SERVICE", "--discovery-service"),
        ("LUAACTORS_DISCOVERY_ENDPOINTS", "--discovery-endpoints"),
        ("LUAACTORS_MANAGEMENT_PORT", "--management-port"),
        ("LUAACTORS_REQUIRED_CONTACT_POINTS", "--required-contact-points"),
    ];

    /// <summary>The method's name as the flag takes it.</summary>
    public string MethodName => Method.ToString().ToLowerInvariant();

    /// <summary>
    /// Resolves the discovery settings. <paramref name="seedSource"/> names where static seeds came
    /// from (<c>--seed</c>, a variable, a HOCON key), null when there are none: discovery and
    /// static seeds exclude each other. <paramref name="hostname"/> is this node's: with config
    /// discovery its own endpoint must be in the list.
    /// </summary>
    /// <exception cref="NodeOptionsException">A value or a combination that cannot work, naming the flag.</exception>
    public static DiscoverySettings Resolve(
        DiscoveryOptions flags, Func<string, string?> environment, Config hocon, string hostname, string? seedSource)
    {
        const string Key = "luaactors.node.discovery";
        string? Env(string name) => string.IsNullOrWhiteSpace(environment(name)) ? null : environment(name);

        var (methodText, methodFrom) = flags.Method is { } m ? (m, "--discovery")
            : Env("LUAACTORS_DISCOVERY") is { } e ? (e, "LUAACTORS_DISCOVERY")
            : (hocon.GetString($"{Key}.method", "none"), $"{Key}.method");
        var method = methodText.Trim().ToLowerInvariant() switch
        {
            "none" or "" => DiscoveryMethod.None,
            "config" => DiscoveryMethod.Config,
            "kubernetes" => DiscoveryMethod.Kubernetes,
            _ => throw new NodeOptionsException($"{methodFrom} must be none, config or kubernetes (got '{methodText}')"),
        };

        // Flags and variables of discovery given without discovery are a mistake, not a default.
        var endpointsText = flags.Endpoints.Count > 0 ? string.Join(",", flags.Endpoints) : Env("LUAACTORS_DISCOVERY_ENDPOINTS");
        var (portText, portFrom) = flags.ManagementPort is { } p ? (p.ToString(CultureInfo.InvariantCulture), "--management-port")
            : (Env("LUAACTORS_MANAGEMENT_PORT"), "LUAACTORS_MANAGEMENT_PORT");
        var requiredText = flags.RequiredContactPoints?.ToString(CultureInfo.InvariantCulture) ?? Env("LUAACTORS_REQUIRED_CONTACT_POINTS");
        var service = flags.Service ?? Env("LUAACTORS_DISCOVERY_SERVICE");
        if (method == DiscoveryMethod.None)
        {
            var stray = new[] { ("--discovery-endpoints", endpointsText), ("--management-port", portText),
                ("--required-contact-points", requiredText), ("--discovery-service", service) }.FirstOrDefault(s => s.Item2 is not null);
            return stray.Item1 is null ? None
                : throw new NodeOptionsException($"{stray.Item1} needs --discovery config or kubernetes [LUAACTORS_DISCOVERY]");
        }

        if (seedSource is not null)
        {
            throw new NodeOptionsException(
                $"--discovery {methodText} finds the seeds itself: drop the static seeds ({seedSource}), or use --discovery none");
        }

        service ??= hocon.GetString($"{Key}.service", "luaactors");
        if (string.IsNullOrWhiteSpace(service))
        {
            throw new NodeOptionsException("--discovery-service needs a name (the service, in Kubernetes the pods' app label)");
        }

        var managementPort = portText is not null ? NodeSettings.ParsePort(portFrom, portText) : hocon.GetInt($"{Key}.management-port", 8558);
        if (managementPort is <= 0 or > 65535)
        {
            throw new NodeOptionsException($"--management-port must be a port from 1 to 65535, known to the peers (got {managementPort})");
        }

        IReadOnlyList<string> endpoints = endpointsText is not null
            ? endpointsText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. hocon.GetStringList($"{Key}.endpoints") ?? []];
        if (method == DiscoveryMethod.Config)
        {
            if (endpoints.Count == 0)
            {
                throw new NodeOptionsException(
                    "--discovery config needs --discovery-endpoints HOST:PORT,… [LUAACTORS_DISCOVERY_ENDPOINTS]: " +
                    "the management endpoint of every node, this one included");
            }

            foreach (var endpoint in endpoints)
            {
                CheckEndpoint(endpoint);
            }

            var self = $"{hostname}:{managementPort}";
            if (!endpoints.Contains(self, StringComparer.OrdinalIgnoreCase))
            {
                throw new NodeOptionsException(
                    $"--discovery-endpoints does not list this node's own endpoint {self} (--hostname:--management-port): " +
                    "list every node, this one included, as each names itself");
            }
        }
        else if (endpointsText is not null)
        {
            throw new NodeOptionsException("--discovery-endpoints is for --discovery config; Kubernetes lists the pods itself");
        }

        var required = requiredText is not null ? ParseCount(requiredText) : hocon.GetInt($"{Key}.required-contact-points", 0);
        if (required == 0)
        {
            // Automatic: 3 (the smallest cluster that survives a lost node), fewer when fewer are listed.
            required = method == DiscoveryMethod.Config ? Math.Min(3, endpoints.Count) : 3;
        }

        if (method == DiscoveryMethod.Config && required > endpoints.Count)
        {
            throw new NodeOptionsException(
                $"--required-contact-points {required} is more than the {endpoints.Count} endpoints of --discovery-endpoints: the cluster would never form");
        }

        return new DiscoverySettings(method, service, endpoints, managementPort, required);
    }

    private static int ParseCount(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new NodeOptionsException($"--required-contact-points needs a number of nodes, 1 or more (got '{text}')");

    /// <summary>HOST:PORT, the port from 1 to 65535 (an IPv6 host in brackets).</summary>
    private static void CheckEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        var host = colon > 0 ? endpoint[..colon] : "";
        if (host.Length == 0 || host.Contains(':') && !(host.StartsWith('[') && host.EndsWith(']'))
            || !int.TryParse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
        {
            throw new NodeOptionsException($"--discovery-endpoints: '{endpoint}' is not HOST:PORT (a node's management endpoint, e.g. node1:8558)");
        }
    }
}
