using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>
/// `luaactors node …` in the command tree: every token after `node` goes unparsed to
/// <see cref="NodeCommand.RunAsync"/>, which parses the node's options itself (its --help too).
/// A System.CommandLine command for the node replaces this one (CliApp.Create).
/// </summary>
internal static class NodePassThrough
{
    public static Command Create(Func<string, string?> environment)
    {
        var rest = new Argument<string[]>("options")
        {
            Description = "the node's options (luaactors node --help)",
            Arity = ArgumentArity.ZeroOrMore,
            CaptureRemainingTokens = true,
        };
        var command = new Command("node", "run one cluster node with its HTTP API until SIGINT/SIGTERM") { rest };
        command.SetAction(result => NodeCommand.RunAsync(result.GetValue(rest) ?? [], environment));
        return command;
    }
}
