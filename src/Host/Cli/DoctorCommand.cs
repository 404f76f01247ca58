using System.CommandLine;
using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Process;

namespace LuaActors.Host.Cli;

/// <summary>
/// <c>luaactors doctor [--config FILE]</c>: checks that every VM type of the node's config can
/// run here (docs/configuration.md, "luaactors doctor"). Prints what it found on stdout and one
/// line per problem on stderr; exit 0 when there is none, 1 otherwise, 2 for bad arguments.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--config") { Description = "the node's HOCON config file (as luaactors node --config)", HelpName = "FILE" };
        var command = new Command("doctor", "check that every VM type of the node's config can run here") { file };
        command.SetAction(result => RunAsync(result.GetValue(file), command));
        return CliHelp.Document(
            command,
            """
            doctor checks each VM type: its interpreter runs, LuaSocket is there, the launcher is built,
            the kernel supports its confinement. It prints what it found on stdout and one line per
            problem on stderr; exit 0 when there is none, 1 otherwise, 2 for bad arguments.
            """,
            "luaactors doctor",
            "luaactors doctor --config node.conf");
    }

    private static async Task<int> RunAsync(string? file, Command command)
    {
        Config config;
        try
        {
            config = NodeSettings.Resolve(new NodeOptions { ConfigFile = file }, _ => null).Hocon.WithFallback(LuaActorsConfig.Default);
        }
        catch (Exception e) when (e is NodeOptionsException or ConfigurationException)
        {
            return CliErrors.PrintUsage(Console.Error, new UsageProblem(e.Message, command, []), json: false);
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
