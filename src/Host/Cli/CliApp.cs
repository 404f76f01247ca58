using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>
/// The `luaactors` command line: one System.CommandLine tree for every command, per-command
/// help with examples, --version, typo suggestions, shell completion. Exit codes: 0 ok, 1 a Lua
/// or VM error (or an error answer, or no answer), 2 a bad command line.
/// </summary>
internal static class CliApp
{
    public static RootCommand Create(Func<string, string?> environment)
    {
        var client = new ClientOptions(environment);
        var root = new RootCommand("LuaActors: Lua VMs as actors on an Akka.NET cluster.") { HelpName = "luaactors" };
        root.Add(EvalCommand.Create());
        root.Add(NodeCommandLine.Create(environment));
        root.Add(DoctorCommand.Create());
        root.Add(VmClientCommands.Create(client));
        root.Add(GroupClientCommands.Create(client));
        root.Add(MessageClientCommands.CreatePublish(client));
        root.Add(ClusterCommand.Create(client));
        root.Add(TopCommand.Create(client));
        root.Add(AttachCommand.Create(client));
        root.Add(CompletionCommand.Create());
        // `luaactors` alone: the overview, as --help; `luaactors help [COMMAND…]` as COMMAND --help.
        root.SetAction(result => root.Parse(["--help"]).Invoke(result.InvocationConfiguration));
        var helpWords = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "show the usage of a command") { helpWords };
        help.Hidden = true;
        help.SetAction(result => root.Parse([.. result.GetValue(helpWords) ?? [], "--help"]).Invoke(result.InvocationConfiguration));
        root.Add(help);
        CliHelp.Install(root);
        CliHelp.Document(
            root,
            """
            Client commands (vm, group, publish, cluster, attach) talk to a node's HTTP API: --node URL
            [LUAACTORS_NODE] (http://127.0.0.1:5080), --token TOKEN [LUAACTORS_TOKEN]. Exit codes: 0 ok,
            1 Lua or VM error, error answer or node unreachable (kind and message on stderr), 2 bad
            arguments. 'luaactors COMMAND --help' shows one command.
            """,
            "luaactors eval 'return 1, \"two\", {3}'",
            "luaactors node",
            "luaactors vm create calc --init init.lua",
            "luaactors vm exec calc 'return math.sqrt(16)'",
            "luaactors group create workers 100",
            "source <(luaactors completion bash)");
        return root;
    }

    /// <summary>
    /// No response files: an argument starting with '@' is code or a value as given, not a file
    /// to read arguments from.
    /// </summary>
    public static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    /// <summary>Parses and runs <paramref name="args"/>; usage errors are written to <paramref name="configuration"/>'s Error (stderr by default).</summary>
    public static async Task<int> RunAsync(string[] args, Func<string, string?> environment, InvocationConfiguration? configuration = null)
    {
        configuration ??= new InvocationConfiguration();
        var result = Create(environment).Parse(args, Parsing);
        if (CliErrors.Find(result) is { } problem)
        {
            return CliErrors.PrintUsage(configuration.Error, problem, CliErrors.JsonRequested(result));
        }

        return await result.InvokeAsync(configuration);
    }
}
