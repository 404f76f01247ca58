using System.Diagnostics;
using LuaActors.Api;

namespace LuaActors.Bench.Shared;

/// <summary>What every scenario gets: the run mode, the results, and helpers.</summary>
internal sealed class BenchContext(bool quick, Results results, string? configFile = null)
{
    public bool Quick { get; } = quick;

    /// <summary>HOCON laid over the cluster scenarios' node settings (<c>--config FILE</c>), or null.</summary>
    public string? ConfigFile { get; } = configFile;

    public Results Results { get; } = results;

    /// <summary>Picks the quick or the full size of a parameter.</summary>
    public T Size<T>(T quick, T full) => Quick ? quick : full;

    public void Set(string key, object? value) => Results.Set(key, value);

    public void Target(string key, string description, string figureKey, double limit, bool atMost)
    {
        var figure = Results.Get(figureKey) switch
        {
            double d => d,
            int i => i,
            long l => l,
            _ => (double?)null,
        };
        Results.AddTarget(new Target(key, description, figureKey, figure, limit, atMost));
    }

    public static void Say(string line) => Console.WriteLine("  " + line);

    /// <summary>
    /// A manager with its own actor system, quiet logging, and <paramref name="extraHocon"/>.
    /// Dispose it: that stops every VM and its process.
    /// </summary>
    public static Task<VmManager> StartManagerAsync(string? extraHocon = null) =>
        VmManager.StartAsync(new VmManagerOptions
        {
            SystemName = "bench",
            Config = """
                akka.loglevel = ERROR
                akka.stdout-loglevel = ERROR
                """ + "\n" + extraHocon,
        });

    /// <summary>Runs <paramref name="body"/> repeatedly for at least <paramref name="minimum"/> and <paramref name="calls"/> calls.</summary>
    public static async Task WarmUpAsync(TimeSpan minimum, int calls, Func<Task> body)
    {
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls || Stopwatch.GetElapsedTime(started) < minimum; i++)
        {
            await body().ConfigureAwait(false);
        }
    }
}

/// <summary>One benchmark scenario: runs its contenders, prints a table, sets its keys.</summary>
internal interface IScenario
{
    /// <summary>The command-line name (<c>exec-latency</c>), also the prefix of its status key.</summary>
    string Name { get; }

    string Description { get; }

    Task RunAsync(BenchContext context);
}
