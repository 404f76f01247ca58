using System.Text;
using CliWrap;
using Xunit.Abstractions;

using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// tests/cluster/three-nodes.sh: three real node processes, VMs spread over them, one node
/// SIGKILLed, every VM back on the survivors. Needs Cluster.Sharding in the library.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class ThreeNodeClusterTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Vms_of_a_killed_node_come_back_on_the_survivors()
    {
        // Not the script's default ports (4101-4103, 5101-5103): another worktree's suite may be
        // running it on this machine at the same moment.
        var akkaBase = FreeBase();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        // Past the graceful deadline the script gets SIGINT (its trap stops the nodes); a minute
        // later, SIGKILL.
        using var graceful = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var forceful = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var result = await Cli.Wrap("bash")
            .WithArguments([Path.Combine(TestPaths.RepoRoot, "tests", "cluster", "three-nodes.sh")])
            .WithEnvironmentVariables(env => env
                .Set("LUAACTORS_DLL", TestPaths.LuaActorsDll)
                .Set("THREE_NODES_AKKA_BASE", akkaBase.ToString())
                .Set("THREE_NODES_HTTP_BASE", (akkaBase + 10).ToString()))
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(forceful.Token, graceful.Token);
        var log = $"{stdout}\n---- stderr ----\n{stderr}";
        output.WriteLine(log);
        Assert.True(result.ExitCode == 0, $"three-nodes.sh exited {result.ExitCode}:\n{log}");
    }

    /// <summary>A BASE with BASE+1..3 and BASE+11..13 free on loopback.</summary>
    private static int FreeBase()
    {
        for (var attempt = 0; ; attempt++)
        {
            // Below luaactors.vm.networking.listen-ports (20000-29999): a node refuses ports in it.
            var candidate = Random.Shared.Next(10_000, 19_980);
            if (new[] { 1, 2, 3, 11, 12, 13 }.All(offset => IsFree(candidate + offset)) || attempt > 100)
            {
                return candidate;
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
