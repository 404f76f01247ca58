using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Host;

/// <summary>
/// The HOCON of a node: hocon/node.conf, then the --config file, then <see cref="NodeOptions.Config"/>,
/// then the explicit options, each laid over the ones before (later text wins, objects merge).
/// </summary>
internal static class NodeConfig
{
    /// <summary>Every node of a LuaActors cluster runs an actor system of this name.</summary>
    public const string SystemName = "luaactors";

    private static readonly Lazy<string> DefaultsText = new(() =>
    {
        using var stream = typeof(NodeConfig).Assembly.GetManifestResourceStream("LuaActors.Host.node.conf")
            ?? throw new InvalidOperationException("hocon/node.conf is missing from the luaactors assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>hocon/node.conf as embedded in the executable.</summary>
    public static string Defaults => DefaultsText.Value;

    public static string Build(NodeOptions options)
    {
        var parts = new List<string> { Defaults };
        if (options.ConfigFile is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new NodeOptionsException($"cannot read the config file {file}: {e.Message}");
            }

            parts.Add(Checked(text, file));
        }

        if (!string.IsNullOrWhiteSpace(options.Config))
        {
            parts.Add(Checked(options.Config, "the node's config"));
        }

        var overrides = new List<string>();
        if (options.Hostname is { } hostname)
        {
            if (string.IsNullOrWhiteSpace(hostname))
            {
                throw new NodeOptionsException("the hostname is empty");
            }

            if (System.Net.IPAddress.TryParse(hostname.Trim('[', ']'), out var ip)
                && (ip.Equals(System.Net.IPAddress.Any) || ip.Equals(System.Net.IPAddress.IPv6Any)))
            {
                throw new NodeOptionsException(
                    $"the hostname '{hostname}' is not an address other nodes can reach: give this machine's address or name");
            }

            overrides.Add($"akka.remote.dot-netty.tcp.hostname = {Quote(hostname)}");
        }

        if (options.Port is { } port)
        {
            if (port is < 0 or > 65535)
            {
                throw new NodeOptionsException($"the port must be a number from 0 to 65535 (got {port})");
            }

            overrides.Add($"akka.remote.dot-netty.tcp.port = {port}");
        }

        if (options.Seeds.Count > 0)
        {
            overrides.Add($"akka.cluster.seed-nodes = [{string.Join(", ", options.Seeds.Select(s => Quote(CheckSeed(s))))}]");
        }

        parts.Add(string.Join("\n", overrides));
        return string.Join("\n", parts);
    }

    /// <summary>A seed must be the address of a LuaActors node: akka.tcp://luaactors@HOST:PORT.</summary>
    public static string CheckSeed(string seed)
    {
        var problem = $"the seed '{seed}' is not a node address like akka.tcp://{SystemName}@127.0.0.1:4053";
        Address address;
        try
        {
            address = Address.Parse(seed.Trim());
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw new NodeOptionsException(problem);
        }

        if (address.Protocol != "akka.tcp" || address.Host is null || address.Port is null or <= 0)
        {
            throw new NodeOptionsException(problem);
        }

        return address.System == SystemName
            ? address.ToString()
            : throw new NodeOptionsException($"the seed '{seed}' names the actor system '{address.System}': every node's is '{SystemName}'");
    }

    /// <summary>Refuses HOCON that would not stand on its own (see <see cref="LuaActorsConfig.Parse"/>).</summary>
    private static string Checked(string hocon, string origin)
    {
        try
        {
            LuaActorsConfig.Parse(hocon, origin);
            return hocon;
        }
        catch (ConfigurationException e)
        {
            throw new NodeOptionsException(e.Message);
        }
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value);
}
