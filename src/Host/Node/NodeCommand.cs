using System.CommandLine;

namespace LuaActors.Host;

/// <summary>
/// <c>luaactors node ARGS</c> through <see cref="NodeCommandLine"/>: parse errors exit 2 with the
/// problem on stderr, <c>--help</c> prints the node's help, anything else runs the node.
/// </summary>
internal static class NodeCommand
{
    public static async Task<int> RunAsync(string[] args, Func<string, string?> environment)
    {
        var root = new RootCommand("luaactors") { NodeCommandLine.Create(environment) };
        var result = root.Parse(["node", .. args]);
        if (result.UnmatchedTokens.Count > 0)
        {
            return NodeCommandLine.Fail($"unknown option '{result.UnmatchedTokens[0]}' for node");
        }

        if (result.Errors.Count > 0)
        {
            return NodeCommandLine.Fail(result.Errors[0].Message);
        }

        return await result.InvokeAsync();
    }
}
