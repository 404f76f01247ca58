using System.Text;
using CliWrap;
using Xunit.Abstractions;

namespace LuaActors.Tests;

/// <summary>
/// tests/cluster/three-nodes.sh: three real node processes, VMs spread over them, one node
/// SIGKILLed, every VM back on the survivors. Needs Cluster.Sharding in the library.
/// </summary>
public sealed class ThreeNodeClusterTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Vms_of_a_killed_node_come_back_on_the_survivors()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LuaActors.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("LuaActors.sln not found above the test binaries");
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        // Past the graceful deadline the script gets SIGINT (its trap stops the nodes); a minute
        // later, SIGKILL.
        using var graceful = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var forceful = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var result = await Cli.Wrap("bash")
            .WithArguments([Path.Combine(root, "tests", "cluster", "three-nodes.sh")])
            .WithEnvironmentVariables(env => env.Set("LUAACTORS_DLL", Path.Combine(AppContext.BaseDirectory, "luaactors.dll")))
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(forceful.Token, graceful.Token);
        var log = $"{stdout}\n---- stderr ----\n{stderr}";
        output.WriteLine(log);
        Assert.True(result.ExitCode == 0, $"three-nodes.sh exited {result.ExitCode}:\n{log}");
    }
}
