using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace LuaActors.Tests.Support;

/// <summary>Runs the real `luaactors` program (dotnet exec luaactors.dll) against a node.</summary>
internal static class LuaActorsCli
{
    private static readonly string Program = TestPaths.LuaActorsDll;

    /// <summary>
    /// Runs `luaactors ARGS` with the node in LUAACTORS_NODE and <paramref name="token"/> in
    /// LUAACTORS_TOKEN; <paramref name="stdin"/>, if given, is piped in (otherwise stdin is empty).
    /// </summary>
    public static async Task<BufferedCommandResult> RunAsync(Uri node, string? token, string[] args, string? stdin = null)
    {
        var command = Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, .. args])
            .WithEnvironmentVariables(env => env
                .Set("LUAACTORS_NODE", node.ToString())
                .Set("LUAACTORS_TOKEN", token))
            .WithValidation(CommandResultValidation.None);
        if (stdin is not null)
        {
            command = command.WithStandardInputPipe(PipeSource.FromString(stdin, Encoding.UTF8));
        }

        return await command.ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8);
    }

    public static void AssertOk(BufferedCommandResult result) =>
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\nstdout: {result.StandardOutput}\nstderr: {result.StandardError}");
}
