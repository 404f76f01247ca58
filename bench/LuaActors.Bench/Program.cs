using System.Diagnostics;
using System.Globalization;
using LuaActors.Bench.Scenarios;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/LuaActors.Bench -- SCENARIO|all [--quick] [--json FILE] [--config FILE] [--confinement off|on|compare] [--vms N]</c>
/// (docs/performance.md). Exit code 0 when every scenario ran, 1 when one failed, 2 on bad arguments.
/// </summary>
internal static class Program
{
    private static readonly IScenario[] Scenarios =
    [
        new ExecLatency(),
        new ExecBreakdown(),
        new ExecThroughput(),
        new Spawn(),
        new CrashRecovery(),
        new RemoteLatency(),
        new NodeLoss(),
        new HttpLatency(),
        new HttpThroughput(),
        new Scale(),
        new Scenarios.Storage(),
    ];

    public static async Task<int> Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args is [Peers.KestrelFloorMode, ..])
        {
            return await Peers.RunKestrelFloorAsync(args);
        }

        string? scenarioName = null, jsonPath = null, configFile = null, confinement = null;
        var quick = false;
        int? vms = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--vms" when i + 1 < args.Length:
                    if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < 1)
                    {
                        Console.Error.WriteLine($"bench: --vms takes a positive number (got '{args[i]}')");
                        return 2;
                    }

                    vms = parsed;
                    break;
                case "--json" when i + 1 < args.Length:
                    jsonPath = args[++i];
                    break;
                case "--config" when i + 1 < args.Length:
                    configFile = args[++i];
                    if (!File.Exists(configFile))
                    {
                        Console.Error.WriteLine($"bench: no config file '{configFile}'");
                        return 2;
                    }

                    break;
                case "--confinement" when i + 1 < args.Length:
                    confinement = args[++i];
                    if (confinement is not ("off" or "on" or "compare"))
                    {
                        Console.Error.WriteLine($"bench: --confinement takes off, on or compare (got '{confinement}')");
                        return 2;
                    }

                    break;
                case "-h" or "--help":
                    Usage(Console.Out);
                    return 0;
                case var name when !name.StartsWith('-') && scenarioName is null:
                    scenarioName = name;
                    break;
                default:
                    Console.Error.WriteLine($"bench: unexpected argument '{args[i]}'");
                    Usage(Console.Error);
                    return 2;
            }
        }

        var selected = scenarioName == "all" ? Scenarios : Scenarios.Where(s => s.Name == scenarioName).ToArray();
        if (selected.Length == 0)
        {
            Console.Error.WriteLine(scenarioName is null ? "bench: name a scenario or 'all'" : $"bench: no scenario '{scenarioName}'");
            Usage(Console.Error);
            return 2;
        }

        // Bare host processes this program started die with it, even on Ctrl+C. (VM processes
        // die with their actors, and with this process: the library starts them so.)
        // So do the service-path peers (node, redis-server, load generators), stopped by PID.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => HostProcess.KillAll();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Peers.KillAll();
        Console.CancelKeyPress += (_, _) => HostProcess.KillAll();
        Console.CancelKeyPress += (_, _) => Peers.KillAll();

        var machine = Machine.Describe();
        var results = new Results();
        var context = new BenchContext(quick, results, configFile, confinement) { Vms = vms };
        Console.WriteLine($"LuaActors bench ({(quick ? "quick" : "full")}): {string.Join(", ", selected.Select(s => s.Name))}");
        Console.WriteLine($"machine: {machine["cores"]} cores ({machine["cpu"]}), {machine["memory_mb"]} MB, {machine["os"]}, " +
            $"{machine["dotnet"]}, {machine["lua"]}, load {machine["load_average"]}");
#if DEBUG
        Console.WriteLine("warning: a Debug build; figures are only meaningful with -c Release");
#endif

        var failed = 0;
        var total = Stopwatch.StartNew();
        foreach (var scenario in selected)
        {
            var statusKey = scenario.Name.Replace('-', '_') + "_status";
            Console.WriteLine();
            Console.WriteLine($"== {scenario.Name}: {scenario.Description}");
            var watch = Stopwatch.StartNew();
            // A shared machine: keep the load next to the figures.
            results.Set(scenario.Name.Replace('-', '_') + "_load_before", Machine.LoadAverage1());
            try
            {
                await scenario.RunAsync(context);
                if (results.Get(statusKey) is null)
                {
                    results.Set(statusKey, "ok");
                }
            }
            catch (Exception e)
            {
                failed++;
                results.Set(statusKey, "failed: " + e.GetBaseException().Message);
                Console.Error.WriteLine($"bench: {scenario.Name} failed: {e}");
            }
            finally
            {
                HostProcess.KillAll();
                Peers.KillAll();
            }

            Console.WriteLine($"  ({scenario.Name} took {watch.Elapsed.TotalSeconds:F1} s)");
        }

        if (results.Targets.Count > 0)
        {
            var table = new Table("targets", "target", "figure", "value", "limit", "verdict");
            foreach (var target in results.Targets)
            {
                table.Row(target.Description, target.FigureKey, target.Figure, target.Limit, target.Verdict);
            }

            table.Print();
        }

        var run = new Dictionary<string, object?>
        {
            ["mode"] = quick ? "quick" : "full",
            ["scenarios"] = string.Join(",", selected.Select(s => s.Name)),
            ["seconds"] = total.Elapsed.TotalSeconds,
            ["configuration"] = IsRelease() ? "Release" : "Debug",
            ["node_config"] = configFile ?? "defaults",
            ["confinement"] = confinement ?? "default",
        };
        if (jsonPath is not null)
        {
            results.WriteJson(jsonPath, machine, run);
            Console.WriteLine($"figures written to {jsonPath}");
        }

        Console.WriteLine($"done in {total.Elapsed.TotalSeconds:F1} s{(failed > 0 ? $"; {failed} scenario(s) FAILED" : "")}");
        return failed > 0 ? 1 : 0;
    }

    private static bool IsRelease()
    {
#if DEBUG
        return false;
#else
        return true;
#endif
    }

    private static void Usage(TextWriter writer)
    {
        writer.WriteLine("usage: dotnet run -c Release --project bench/LuaActors.Bench -- SCENARIO|all [--quick] [--json FILE] [--config FILE] [--confinement off|on|compare] [--vms N]");
        writer.WriteLine("scenarios:");
        foreach (var scenario in Scenarios)
        {
            writer.WriteLine($"  {scenario.Name,-16} {scenario.Description}");
        }

        writer.WriteLine("  --quick          small sample counts (all in about a minute), for CI");
        writer.WriteLine("  --json FILE      write the run's figures, the machine and the targets as one JSON object");
        writer.WriteLine("  --config FILE    HOCON laid over the cluster nodes' settings (node-loss), e.g. hocon/fast-failover.conf");
        writer.WriteLine("  --confinement off|on     luaactors.vm-types.basic.confinement.enabled for every VM of the run");
        writer.WriteLine("  --confinement compare    spawn and exec-latency measure VMs with confinement off and on, side by side");
        writer.WriteLine("  --vms N          how many VMs scale creates (default 10000; quick: 300)");
    }
}
