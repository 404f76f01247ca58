using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Process;

namespace LuaActors.Host;

/// <summary>
/// <c>luaactors doctor [--config FILE]</c>: checks that every VM type of the node's config can
/// run here (docs/configuration.md, "luaactors doctor"). Prints what it found on stdout and one
/// line per problem on stderr; exit 0 when there is none, 1 otherwise, 2 for bad arguments.
/// </summary>
internal static class DoctorCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? file = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length:
                    file = args[++i];
                    break;
                case "-h" or "--help":
                    return Usage.Print(Console.Out, 0);
                default:
                    return Usage.Fail($"doctor: unknown argument '{args[i]}' (it takes --config FILE)");
            }
        }

        Config config;
        try
        {
            config = NodeSettings.Resolve(new NodeOptions { ConfigFile = file }, _ => null).Hocon.WithFallback(LuaActorsConfig.Default);
        }
        catch (Exception e) when (e is NodeOptionsException or ConfigurationException)
        {
            return Usage.Fail(e.Message);
        }

        var findings = await VmTypeDoctor.CheckAsync(config, KernelSupport.Probe());
        foreach (var finding in findings)
        {
            await Console.Out.WriteLineAsync($"{(finding.IsProblem ? "PROBLEM" : "ok     ")} {finding}");
        }

        var problems = findings.Where(f => f.IsProblem).ToList();
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync($"problem: {problem}");
        }

        return problems.Count == 0 ? 0 : 1;
    }
}
