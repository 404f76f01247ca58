using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Host;

/// <summary>
/// A node's settings resolved from its sources, highest first: the command line
/// (<see cref="NodeOptions"/>), <c>LUAACTORS_*</c> environment variables, the <c>--config</c> file
/// (and <see cref="NodeOptions.Config"/> over it), hocon/node.conf (docs/configuration.md,
/// "Precedence"). <see cref="Hocon"/> is everything but the node's identity, which the host gives
/// Akka.Hosting as options (remoting, clustering).
/// </summary>
internal sealed record NodeSettings(
    string Hostname,
    int Port,
    IReadOnlyList<string> Seeds,
    HttpEndpoint Http,
    string? Token,
    Config Hocon)
{
    /// <summary>How the node finds its seeds when it has no static ones (<c>--discovery</c>).</summary>
    public DiscoverySettings Discovery { get; init; } = DiscoverySettings.None;

    /// <summary>Every node of a LuaActors cluster runs an actor system of this name.</summary>
    public const string SystemName = "luaactors";

    /// <summary>The environment variables a node reads, each the twin of a flag.</summary>
    public static readonly IReadOnlyList<(string Variable, string Flag)> EnvironmentVariables =
    [
        ("LUAACTORS_HOSTNAME", "--hostname"),
        ("LUAACTORS_PORT", "--port"),
        ("LUAACTORS_SEEDS", "--seed"),
        ("LUAACTORS_HTTP", "--http"),
        ("LUAACTORS_TOKEN", "--token"),
        ("LUAACTORS_CONFIG", "--config"),
        ("LUAACTORS_LOG_FORMAT", "--log-format"),
        ("LUAACTORS_PERSISTENCE", "--persistence"),
        ("LUAACTORS_DATA_DIR", "--data-dir"),
        ("LUAACTORS_CONNECTION_STRING", "--connection-string"),
    ];

    private static readonly Lazy<Config> NodeDefaults = new(() =>
    {
        using var stream = typeof(NodeSettings).Assembly.GetManifestResourceStream("LuaActors.Host.node.conf")
            ?? throw new InvalidOperationException("hocon/node.conf is missing from the luaactors assembly");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });

    /// <summary>hocon/node.conf as embedded in the executable.</summary>
    public static Config Defaults => NodeDefaults.Value;

    /// <summary>The Akka log level the node's configuration asks for (node.conf: WARNING).</summary>
    public Akka.Event.LogLevel LogLevel => Hocon.GetString("akka.loglevel", "WARNING").ToUpperInvariant() switch
    {
        "DEBUG" => Akka.Event.LogLevel.DebugLevel,
        "INFO" => Akka.Event.LogLevel.InfoLevel,
        "ERROR" or "OFF" => Akka.Event.LogLevel.ErrorLevel,
        _ => Akka.Event.LogLevel.WarningLevel,
    };

    /// <summary>How the log on stderr is written (luaactors.node.log-format: text).</summary>
    public LogFormat LogFormat { get; init; }

    /// <summary>The level of the node's own events: requests, VM lifecycle (luaactors.node.log-level: INFO).</summary>
    public Microsoft.Extensions.Logging.LogLevel NodeLogLevel => NodeLogging.ParseLevel(Hocon.GetString("luaactors.node.log-level", "INFO"));

    /// <summary>
    /// Resolves <paramref name="options"/> (the command line) over <paramref name="environment"/>
    /// over the config file over hocon/node.conf.
    /// </summary>
    /// <exception cref="NodeOptionsException">A value that cannot work, said plainly.</exception>
    public static NodeSettings Resolve(NodeOptions options, Func<string, string?> environment)
    {
        string? Env(string name) => string.IsNullOrWhiteSpace(environment(name)) ? null : environment(name);

        var hocon = Defaults;
        if ((options.ConfigFile ?? Env("LUAACTORS_CONFIG")) is { } file)
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

            hocon = Checked(text, file).WithFallback(hocon);
        }

        if (!string.IsNullOrWhiteSpace(options.Config))
        {
            hocon = Checked(options.Config, "the node's config").WithFallback(hocon);
        }

        hocon = Persistence(options, Env).WithFallback(hocon);

        // An empty hostname in HOCON is Akka's own choice (every address, the machine's name); given
        // as a flag or variable it is a mistake.
        var hostname = (options.Hostname ?? Env("LUAACTORS_HOSTNAME")) is { } given
            ? CheckHostname(given)
            : hocon.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1") ?? "";
        var port = options.Port
            ?? (Env("LUAACTORS_PORT") is { } envPort ? ParsePort("LUAACTORS_PORT", envPort) : (int?)null)
            ?? hocon.GetInt("akka.remote.dot-netty.tcp.port", 0);
        IReadOnlyList<string> seeds = options.Seeds.Count > 0 ? options.Seeds
            : Env("LUAACTORS_SEEDS") is { } envSeeds ? envSeeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. hocon.GetStringList("akka.cluster.seed-nodes") ?? []];
        var seedSource = seeds.Count == 0 ? null : options.Seeds.Count > 0 ? "--seed" : Env("LUAACTORS_SEEDS") is not null ? "LUAACTORS_SEEDS" : "akka.cluster.seed-nodes";
        var http = options.Http ?? Env("LUAACTORS_HTTP") ?? hocon.GetString("luaactors.node.http", "127.0.0.1:5080");
        var token = options.Token ?? Env("LUAACTORS_TOKEN");
        return new NodeSettings(
            hostname,
            port is < 0 or > 65535 ? throw new NodeOptionsException($"the port must be a number from 0 to 65535 (got {port})") : port,
            seeds.Select(CheckSeed).ToList(),
            HttpEndpoint.Parse(http),
            string.IsNullOrEmpty(token) ? null : token,
            hocon)
        {
            LogFormat = options.LogFormat is { } flag ? NodeLogging.ParseFormat(flag, "--log-format")
                : Env("LUAACTORS_LOG_FORMAT") is { } envFormat ? NodeLogging.ParseFormat(envFormat, "LUAACTORS_LOG_FORMAT")
                : NodeLogging.ParseFormat(hocon.GetString("luaactors.node.log-format", "text"), "luaactors.node.log-format"),
            Discovery = DiscoverySettings.Resolve(options.Discovery, environment, hocon, hostname, seedSource),
        };
    }

    /// <summary>luaactors.persistence from the flags and the environment (docs/configuration.md, "Persistence").</summary>
    private static Config Persistence(NodeOptions options, Func<string, string?> env)
    {
        // A connection string alone names PostgreSQL, a data directory alone SQLite (a flag over a variable).
        static string? Implied(string? connection, string? dataDir) => connection is not null ? "postgresql" : dataDir is not null ? "sqlite" : null;
        var dataDir = options.DataDir ?? env("LUAACTORS_DATA_DIR");
        var connection = options.ConnectionString ?? env("LUAACTORS_CONNECTION_STRING");
        var mode = (options.Persistence ?? Implied(options.ConnectionString, options.DataDir) ?? env("LUAACTORS_PERSISTENCE")
            ?? Implied(env("LUAACTORS_CONNECTION_STRING"), env("LUAACTORS_DATA_DIR")))?.Trim().ToLowerInvariant();
        if (mode is not null && !LuaActors.Persistence.PersistenceSettings.Modes.Contains(mode))
        {
            throw new NodeOptionsException($"the persistence '{mode}' is not known: give sqlite, postgresql or off (--no-persistence)");
        }

        var text = new System.Text.StringBuilder();
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                text.Append("luaactors.persistence.").Append(key).Append(" = ").AppendLine(System.Text.Json.JsonSerializer.Serialize(value));
            }
        }

        Set("mode", mode);
        Set("sqlite.data-dir", dataDir);
        Set("postgresql.connection-string", connection);
        return ConfigurationFactory.ParseString(text.ToString());
    }

    /// <summary>A port given as text (a flag or a variable): 0 to 65535.</summary>
    public static int ParsePort(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new NodeOptionsException($"{option} needs a port number from 0 to 65535 (got '{value}')");

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

    private static string CheckHostname(string hostname)
    {
        if (string.IsNullOrWhiteSpace(hostname))
        {
            throw new NodeOptionsException("the hostname is empty");
        }

        if (IPAddress.TryParse(hostname.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            throw new NodeOptionsException(
                $"the hostname '{hostname}' is not an address other nodes can reach: give this machine's address or name");
        }

        return hostname;
    }

    /// <summary>Refuses HOCON that would not stand on its own (see <see cref="LuaActorsConfig.Parse"/>).</summary>
    private static Config Checked(string hocon, string origin)
    {
        try
        {
            return LuaActorsConfig.Parse(hocon, origin);
        }
        catch (ConfigurationException e)
        {
            throw new NodeOptionsException(e.Message);
        }
    }
}
