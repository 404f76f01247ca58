namespace LuaActors.Host;

/// <summary>How a node finds its seeds: static <c>--seed</c> addresses, or Akka.Management's Cluster Bootstrap.</summary>
internal enum DiscoveryMethod
{
    /// <summary>Static seeds (<c>--seed</c>, or none: the node is its own seed).</summary>
    None,

    /// <summary>Akka.Discovery's config provider: a fixed list of the peers' management endpoints.</summary>
    Config,

    /// <summary>Akka.Discovery.KubernetesApi: the pods matching a label selector.</summary>
    Kubernetes,
}

/// <summary>
/// The discovery flags of <c>luaactors node</c> as given (null: not given, the environment or the
/// config file decides). Resolved by <see cref="DiscoverySettings.Resolve"/>.
/// </summary>
internal sealed record DiscoveryOptions
{
    /// <summary><c>--discovery none|config|kubernetes</c>.</summary>
    public string? Method { get; init; }

    /// <summary><c>--discovery-service NAME</c>: the service looked up (Kubernetes: the <c>app</c> label).</summary>
    public string? Service { get; init; }

    /// <summary><c>--discovery-endpoints HOST:PORT,…</c>: every node's management endpoint (config discovery).</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary><c>--management-port PORT</c>: the Akka.Management HTTP port Cluster Bootstrap probes.</summary>
    public int? ManagementPort { get; init; }

    /// <summary><c>--required-contact-points N</c>: how many peers must be found before a new cluster forms.</summary>
    public int? RequiredContactPoints { get; init; }
}
