using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace LuaActors.Host.Cli;

/// <summary>
/// Per-command help: System.CommandLine's (usage, arguments, options, subcommands of the command
/// asked about only), followed by the command's notes and examples. And --version.
/// </summary>
internal static class CliHelp
{
    private static readonly ConditionalWeakTable<Command, Details> Extras = [];

    /// <summary>Text printed after <paramref name="command"/>'s help: notes (a paragraph) and examples (one command line each).</summary>
    public static T Document<T>(T command, string? notes = null, params string[] examples) where T : Command
    {
        Extras.AddOrUpdate(command, new Details(notes, examples));
        return command;
    }

    /// <summary>Puts the notes and examples into the help of every command, and the assembly's version into --version.</summary>
    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new WithExtras((HelpAction)help.Action!);
        root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
    }

    /// <summary>The informational version of the luaactors assembly (not of whatever process hosts it).</summary>
    public static string Version =>
        typeof(CliHelp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliHelp).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    private sealed record Details(string? Notes, string[] Examples);

    private sealed class WithExtras(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var exit = inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            if (Extras.TryGetValue(parseResult.CommandResult.Command, out var details))
            {
                if (details.Notes is { } notes)
                {
                    output.WriteLine(notes.TrimEnd());
                    output.WriteLine();
                }

                if (details.Examples.Length > 0)
                {
                    output.WriteLine("Examples:");
                    foreach (var example in details.Examples)
                    {
                        output.WriteLine($"  {example}");
                    }

                    output.WriteLine();
                }
            }

            return exit;
        }
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }
}
