using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;

namespace LuaActors.Host;

/// <summary>
/// <c>luaactors node</c> on System.CommandLine: runs one cluster node until SIGINT or SIGTERM,
/// then leaves the cluster and exits 0. Exit 1 if the node cannot start or the cluster downs it;
/// 2 for bad options. Each flag has a <c>LUAACTORS_*</c> twin; the flag wins
/// (<see cref="NodeSettings.Resolve"/>, docs/configuration.md).
/// </summary>
public static class NodeCommandLine
{
    private const int BadOptions = 2;

    private const string Description = """
        Run one cluster node with its HTTP API until SIGINT/SIGTERM, then leave the cluster.

        Settings come from the flags, then LUAACTORS_* environment variables, then the --config
        file, then the defaults (hocon/node.conf). The node prints 'node: akka.tcp://luaactors@HOST:PORT'
        and 'http: URL' when it is up, then every membership change. Run 3 nodes or more with the
        same 2 seeds or more (docs/cluster.md).

        Examples:
          luaactors node
          luaactors node --hostname 10.0.0.5 --port 4053 --seed akka.tcp://luaactors@10.0.0.5:4053 \
            --seed akka.tcp://luaactors@10.0.0.6:4053 --http 0.0.0.0:5080 --token s3cret
          LUAACTORS_PORT=0 luaactors node --http 127.0.0.1:0 --config hocon/fast-failover.conf
          luaactors node --hostname node1 --discovery config --discovery-endpoints node1:8558,node2:8558,node3:8558
          luaactors node --data-dir /var/lib/luaactors
          luaactors node --connection-string "Host=db;Database=luaactors;Username=luaactors;Password=…"
          luaactors node --no-persistence
        """;

    /// <summary>The <c>node</c> command; its action runs the node (environment from the process).</summary>
    public static Command Create() => Create(Environment.GetEnvironmentVariable);

    internal static Command Create(Func<string, string?> environment)
    {
        var symbols = new Symbols();
        var command = new Command("node", Description)
        {
            symbols.Hostname, symbols.Port, symbols.Seed, symbols.Http, symbols.Token, symbols.Config, symbols.LogFormat,
            symbols.Persistence, symbols.NoPersistence, symbols.DataDir, symbols.ConnectionString,
        };
        DiscoveryFlags.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(OptionsOf(result), environment, cancellationToken));
        return command;
    }

    /// <summary>The node's flags read from a parse of the <c>node</c> command (nulls where not given).</summary>
    internal static NodeOptions OptionsOf(ParseResult result) => new()
    {
        Hostname = result.GetValue<string?>("--hostname"),
        Port = result.GetValue<int?>("--port"),
        Seeds = result.GetValue<string[]>("--seed") ?? [],
        Http = result.GetValue<string?>("--http"),
        Token = result.GetValue<string?>("--token"),
        ConfigFile = result.GetValue<string?>("--config"),
        LogFormat = result.GetValue<string?>("--log-format"),
        Discovery = DiscoveryFlags.Read(result),
        Persistence = result.GetValue<bool>("--no-persistence") ? "off" : result.GetValue<string?>("--persistence"),
        DataDir = result.GetValue<string?>("--data-dir"),
        ConnectionString = result.GetValue<string?>("--connection-string"),
    };

    /// <summary>Starts the node, waits for a signal or for the cluster to stop it, and stops it.</summary>
    internal static async Task<int> RunAsync(NodeOptions options, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        options = options with { Output = Console.Out, Errors = Console.Error };

        // Handle SIGINT and SIGTERM without the default exit, so that one arriving during
        // start-up also ends in a clean leave. (Akka's own hook, run-by-clr-shutdown-hook, may
        // start the same CoordinatedShutdown first: running it twice is harmless.)
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            if (signal.TrySetResult())
            {
                context.Cancel = true;
                Console.Out.WriteLine($"{context.Signal}: leaving the cluster");
            }
            else
            {
                // A second signal while leaving: the default action, exit now.
                Console.Out.WriteLine($"{context.Signal} again: exiting without waiting");
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        RunningNode node;
        try
        {
            node = await NodeHost.StartAsync(options, environment, cancellationToken);
        }
        catch (NodeOptionsException e)
        {
            return Fail(e.Message);
        }
        catch (NodeStartException e)
        {
            Console.Error.WriteLine($"luaactors node: {e.Message}");
            return 1;
        }

        await Task.WhenAny(signal.Task, node.Terminated);
        await node.StopAsync();
        if (signal.Task.IsCompleted || node.StoppedOnPurpose)
        {
            Console.Out.WriteLine("stopped");
            return 0;
        }

        Console.Error.WriteLine(
            $"luaactors node: stopped by the cluster ({node.ShutdownReason?.GetType().Name ?? "unknown reason"}): " +
            "this node was downed or could not join");
        return 1;
    }

    /// <summary>A usage error: the problem on stderr, exit 2.</summary>
    internal static int Fail(string problem)
    {
        Console.Error.WriteLine($"luaactors node: {problem}");
        Console.Error.WriteLine("run 'luaactors node --help' for usage");
        return BadOptions;
    }

    /// <summary>The node's options, with their help.</summary>
    private sealed class Symbols
    {
        public Option<string?> Hostname { get; } = new("--hostname")
        {
            Description = "The address other nodes reach this one at, and that it binds [LUAACTORS_HOSTNAME] (127.0.0.1).",
            HelpName = "HOST",
        };

        public Option<int?> Port { get; } = new("--port")
        {
            Description = "The cluster (Akka remoting) port; 0 picks a free one [LUAACTORS_PORT] (4053).",
            HelpName = "PORT",
            CustomParser = ParsePort,
        };

        public Option<string[]> Seed { get; } = new("--seed")
        {
            Description = "A seed node, akka.tcp://luaactors@HOST:PORT; repeat for several [LUAACTORS_SEEDS, comma-separated] " +
                "(none: the node is its own seed).",
            HelpName = "ADDRESS",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        public Option<string?> Http { get; } = new("--http")
        {
            Description = "Where the HTTP API listens, ADDRESS:PORT; port 0 picks a free one [LUAACTORS_HTTP] (127.0.0.1:5080).",
            HelpName = "ADDRESS:PORT",
        };

        public Option<string?> Token { get; } = new("--token")
        {
            Description = "Require 'Authorization: Bearer TOKEN' on every request [LUAACTORS_TOKEN]; " +
                "needed to listen on an address that is not loopback.",
            HelpName = "TOKEN",
        };

        public Option<string?> Config { get; } = new("--config")
        {
            Description = "A HOCON file laid over the node's defaults (hocon/node.conf), under the flags and " +
                "the environment [LUAACTORS_CONFIG].",
            HelpName = "FILE",
        };

        public Option<string?> LogFormat { get; } = new Option<string?>("--log-format")
        {
            Description = "The log on stderr: text lines, or json (one object per line) [LUAACTORS_LOG_FORMAT] (text).",
            HelpName = "FORMAT",
        }.AcceptOnlyFromAmong("text", "json");
        public Option<string?> Persistence { get; } = new("--persistence")
        {
            Description = "Where VM specs are kept: sqlite (in --data-dir), postgresql (--connection-string) or off " +
                "[LUAACTORS_PERSISTENCE] (sqlite).",
            HelpName = "MODE",
        };

        public Option<bool> NoPersistence { get; } = new("--no-persistence")
        {
            Description = "Keep VM specs in memory only: nothing survives a restart of every node (--persistence off).",
        };

        public Option<string?> DataDir { get; } = new("--data-dir")
        {
            Description = "The SQLite database's directory, created if missing [LUAACTORS_DATA_DIR] (./luaactors-data).",
            HelpName = "DIR",
        };

        public Option<string?> ConnectionString { get; } = new("--connection-string")
        {
            Description = "A PostgreSQL (Npgsql) connection string every node shares; implies --persistence postgresql " +
                "[LUAACTORS_CONNECTION_STRING].",
            HelpName = "TEXT",
        };

        private static int? ParsePort(ArgumentResult result)
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
            try
            {
                return NodeSettings.ParsePort("--port", text);
            }
            catch (NodeOptionsException e)
            {
                result.AddError(e.Message);
                return null;
            }
        }
    }
}
