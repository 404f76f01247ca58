using System.Diagnostics;
using LuaActors.Api;

namespace LuaActors.Bench.Shared;

/// <summary>What every scenario gets: the run mode, the results, and helpers.</summary>
internal sealed class BenchContext(bool quick, Results results, string? configFile = null, string? confinement = null)
{
    public bool Quick { get; } = quick;

    /// <summary>
    /// <c>--confinement</c>: null (the config's own setting), <c>off</c>, <c>on</c>, or
    /// <c>compare</c> (spawn and exec-latency measure their VMs both ways, side by side).
    /// </summary>
    public string? Confinement { get; } = confinement;

    public bool CompareConfinement => Confinement == "compare";

    /// <summary>HOCON laid over the cluster scenarios' node settings (<c>--config FILE</c>), or null.</summary>
    public string? ConfigFile { get; } = configFile;

    public Results Results { get; } = results;

    /// <summary><c>--vms N</c>: how many VMs the scale scenario creates (null: its default).</summary>
    public int? Vms { get; init; }

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
    /// A manager with its own actor system, quiet logging, and <paramref name="extraHocon"/>;
    /// the basic type's confinement <paramref name="confined"/> (on or off), else as
    /// <c>--confinement</c> says (the config's own setting when it is not given or compares).
    /// Dispose it: that stops every VM and its process.
    /// </summary>
    public Task<VmManager> StartManagerAsync(string? extraHocon = null, bool? confined = null) =>
        VmManager.StartAsync(new VmManagerOptions
        {
            SystemName = "bench",
            Config = """
                akka.loglevel = ERROR
                akka.stdout-loglevel = ERROR
                """ + "\n" + (confined is null ? ClusterConfinementHocon : ConfinementHocon(confined)) + "\n" + extraHocon,
        });

    /// <summary>The cluster scenarios' share of <c>--confinement</c> (they do not compare: on or off as given).</summary>
    public string ClusterConfinementHocon => ConfinementHocon(Confinement switch { "on" => true, "off" => false, _ => null });

    /// <summary>The key the confinement layers read (docs/configuration.md); empty for the config's own setting.</summary>
    public static string ConfinementHocon(bool? confined) =>
        confined is { } on ? $"luaactors.vm-types.basic.confinement.enabled = {(on ? "on" : "off")}" : "";

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
