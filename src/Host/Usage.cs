namespace LuaActors.Host;

/// <summary>
/// The exit code for bad arguments (2) and the usage of `luaactors node`, which parses its own
/// options (NodeCommand). The other commands' usage and errors are in Cli/ (System.CommandLine).
/// </summary>
internal static class Usage
{
    public const int BadArguments = 2;

    public const string NodeText = """
        usage: luaactors node [options]
          run one cluster node with its HTTP API until SIGINT/SIGTERM

        options (environment variable in brackets; the command line wins):
          --hostname H          address other nodes reach this one at [LUAACTORS_HOSTNAME] (127.0.0.1)
          --port P              cluster (Akka remoting) port, 0 for any [LUAACTORS_PORT] (4053)
          --seed ADDRESS        a seed node, akka.tcp://luaactors@HOST:PORT; repeatable
                                [LUAACTORS_SEEDS, comma-separated] (none: the node is its own seed)
          --http ADDRESS:PORT   where the HTTP API listens, port 0 for any [LUAACTORS_HTTP] (127.0.0.1:5080)
          --token TOKEN         require 'Authorization: Bearer TOKEN' on every request [LUAACTORS_TOKEN];
                                needed to listen on an address that is not loopback
          --config FILE         HOCON laid over the node's defaults (hocon/node.conf)

        The node prints 'node: akka.tcp://luaactors@HOST:PORT' and 'http: URL' when it is up, then
        every membership change. SIGINT or SIGTERM: it leaves the cluster, stops its VMs, exits 0.
        Run 3 nodes or more with the same 2 seeds or more (see hocon/node.conf).

        examples:
          luaactors node
          luaactors node --port 4101 --http 127.0.0.1:5081 --seed akka.tcp://luaactors@127.0.0.1:4100
        """;

    /// <summary>`luaactors node --help`.</summary>
    public static int Print(TextWriter writer, int exitCode)
    {
        writer.WriteLine(NodeText);
        return exitCode;
    }

    /// <summary>A bad argument of `luaactors node`: the problem on stderr, exit 2.</summary>
    public static int Fail(string problem)
    {
        Console.Error.WriteLine($"luaactors: {problem}");
        Console.Error.WriteLine("run 'luaactors node --help' for usage");
        return BadArguments;
    }
}
