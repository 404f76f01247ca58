using System.Globalization;
using System.Runtime.InteropServices;

namespace LuaActors.Host;

/// <summary>
/// <c>luaactors node</c>: runs one cluster node until SIGINT or SIGTERM, then leaves the cluster
/// and exits 0. Exit 1 if the node cannot start or the cluster downs it; 2 for bad options.
/// </summary>
internal static class NodeCommand
{
    public static async Task<int> RunAsync(string[] args, Func<string, string?> environment)
    {
        NodeOptions options;
        try
        {
            options = Parse(args, environment);
        }
        catch (ArgumentException e)
        {
            return Usage.Fail(e.Message);
        }
        catch (HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

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
            node = await NodeHost.StartAsync(options);
        }
        catch (NodeOptionsException e)
        {
            return Usage.Fail(e.Message);
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

    private sealed class HelpRequested : Exception;

    private static NodeOptions Parse(string[] args, Func<string, string?> environment)
    {
        string? hostname = null, http = null, token = null, configFile = null;
        int? port = null;
        var seeds = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--hostname":
                    hostname = Next();
                    break;
                case "--port":
                    port = Port(arg, Next());
                    break;
                case "--seed":
                    seeds.Add(Next());
                    break;
                case "--http":
                    http = Next();
                    break;
                case "--config":
                    configFile = Next();
                    break;
                case "--token":
                    token = Next();
                    break;
                case "-h" or "--help":
                    throw new HelpRequested();
                default:
                    throw new ArgumentException($"unknown option '{arg}' for node");
            }
        }

        // The command line wins over the environment.
        hostname ??= NonEmpty(environment("LUAACTORS_HOSTNAME"));
        port ??= NonEmpty(environment("LUAACTORS_PORT")) is { } envPort ? Port("LUAACTORS_PORT", envPort) : null;
        http ??= NonEmpty(environment("LUAACTORS_HTTP"));
        token ??= NonEmpty(environment("LUAACTORS_TOKEN"));
        if (seeds.Count == 0 && NonEmpty(environment("LUAACTORS_SEEDS")) is { } envSeeds)
        {
            seeds.AddRange(envSeeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return new NodeOptions
        {
            Hostname = hostname,
            Port = port,
            Seeds = seeds,
            Http = http,
            Token = token,
            ConfigFile = configFile,
            Output = Console.Out,
        };
    }

    private static int Port(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new ArgumentException($"{option} needs a port number from 0 to 65535 (got '{value}')");

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
