namespace LuaActors.Host;

/// <summary>
/// How to start one cluster node (<see cref="NodeHost.StartAsync"/>), as the command line gives
/// it. A null property takes its value from the LUAACTORS_* environment, then <see cref="Config"/>,
/// then <see cref="ConfigFile"/>, then hocon/node.conf (<see cref="NodeSettings.Resolve"/>).
/// </summary>
internal sealed record NodeOptions
{
    /// <summary>The remoting hostname this node binds and advertises (node.conf: 127.0.0.1).</summary>
    public string? Hostname { get; init; }

    /// <summary>The remoting port; 0 picks a free one (node.conf: 4053).</summary>
    public int? Port { get; init; }

    /// <summary>Seed node addresses (akka.tcp://luaactors@HOST:PORT). Empty: the config's, else itself.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Seed discovery through Akka.Management instead of <see cref="Seeds"/> (<c>--discovery</c> and its flags).</summary>
    public DiscoveryOptions Discovery { get; init; } = new();

    /// <summary>Where the HTTP API listens, ADDRESS:PORT (node.conf: 127.0.0.1:5080); port 0 picks a free one.</summary>
    public string? Http { get; init; }

    /// <summary>Required on every HTTP request when set; required to bind a non-loopback address.</summary>
    public string? Token { get; init; }

    /// <summary>The log's format on stderr, text or json (node.conf: text).</summary>
    public string? LogFormat { get; init; }
    /// <summary>Where desired state is kept: "sqlite", "postgresql" or "off" (node.conf: sqlite; <c>--no-persistence</c> is "off").</summary>
    public string? Persistence { get; init; }

    /// <summary>The SQLite data directory (node.conf: ./luaactors-data).</summary>
    public string? DataDir { get; init; }

    /// <summary>The PostgreSQL connection string (Npgsql); given alone, it means <c>--persistence postgresql</c>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>A HOCON file laid over hocon/node.conf.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>HOCON text laid over <see cref="ConfigFile"/> (tests use it for limits and log levels).</summary>
    public string? Config { get; init; }

    /// <summary>Where the node prints its address, its HTTP URL and membership changes.</summary>
    public TextWriter Output { get; init; } = TextWriter.Null;

    /// <summary>Where the node prints start-up warnings (an unprotected cluster port) and the HTTP API's internal errors.</summary>
    public TextWriter Errors { get; init; } = Console.Error;
}

/// <summary>The options cannot start a node (bad value, non-loopback HTTP without a token): exit code 2.</summary>
internal sealed class NodeOptionsException(string message) : Exception(message);

/// <summary>The node could not start (a port in use, say): exit code 1.</summary>
internal sealed class NodeStartException(string message, Exception inner) : Exception(message, inner);
