using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The real `luaactors node` program: start-up lines, environment, options, SIGTERM.</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class NodeProcessTests
{
    private static readonly string Program = TestPaths.LuaActorsDll;

    [Fact]
    public async Task Sigterm_leaves_the_cluster_exits_0_and_no_vm_process_outlives_the_node()
    {
        var stdout = new ConcurrentQueue<string>();
        var stderr = new StringBuilder();
        using var kill = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        // The environment gives the ports; the command line wins over LUAACTORS_HTTP, which alone
        // would be refused (not loopback, no token).
        var running = Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, "node", "--http", "127.0.0.1:0"])
            .WithEnvironmentVariables(env => env
                .Set("LUAACTORS_PORT", "0")
                .Set("LUAACTORS_HTTP", "0.0.0.0:5080")
                .Set("LUAACTORS_TOKEN", null)
                .Set("LUAACTORS_SEEDS", null)
                .Set("LUAACTORS_HOSTNAME", null))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(stdout.Enqueue))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(kill.Token);
        try
        {
            string? Line(string prefix) => stdout.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
            await Eventually.TrueAsync(() => Line("http: ") is not null || running.Task.IsCompleted, TimeSpan.FromSeconds(60), "the node printing its HTTP URL");
            Assert.False(running.Task.IsCompleted, $"the node exited: {stderr}");
            var address = Line("node: ");
            Assert.Matches(@"^akka\.tcp://luaactors@127\.0\.0\.1:\d+$", address);
            Assert.DoesNotMatch(":4053$", address);
            // The node states how many VM processes its descriptor limit allows, and how to raise it.
            await Eventually.TrueAsync(() => Line("capacity: ") is not null, TimeSpan.FromSeconds(10), "the node printing its capacity");
            Assert.Matches(@"^\d+ VM processes on this node \(RLIMIT_NOFILE \d+.*ulimit -n", Line("capacity: "));

            using var client = new HttpClient { BaseAddress = new Uri(Line("http: ")!) };
            await Eventually.TrueAsync(() => stdout.Any(l => l.Contains($"member up {address} (this node)", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the node printing that it is up");
            using var created = await client.PostAsJsonAsync("vms", new { id = "survivor", initScript = "x = 1" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var pid = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("processId").GetInt32();
            Assert.True(LuaProcesses.StartedBy(running.ProcessId).Contains(pid), $"VM process {pid} was not started by the node {running.ProcessId}");

            await Cli.Wrap("kill").WithArguments(["-TERM", running.ProcessId.ToString()]).ExecuteAsync();
            var result = await running;

            var printed = string.Join("\n", stdout);
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\nstdout: {printed}\nstderr: {stderr}");
            // Only "stopped" is certain: Akka's own SIGTERM hook may run the shutdown before ours
            // prints, and the membership printer may stop before it sees this node Removed.
            Assert.True(stdout.Contains("stopped"), $"stdout: {printed}");
            await LuaProcesses.AssertGoneAsync([pid]);
        }
        finally
        {
            // Only if an assertion failed before the node exited: SIGKILL it (its VMs die with it).
            await kill.CancelAsync();
        }
    }

    [Fact]
    public async Task A_config_file_the_hocon_parser_never_finishes_exits_2()
    {
        using var file = await TempFile.WithTextAsync("akka.cluster.roles = [a, b\n");
        var result = await Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, "node", "--port", "0", "--http", "127.0.0.1:0", "--config", file.Path])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{file.Path} is not valid HOCON", result.StandardError);
    }

    [Theory]
    [InlineData("the HTTP API would listen on 0.0.0.0", "--port", "0", "--http", "0.0.0.0:0")]
    [InlineData("--port needs a port number", "--port", "http")]
    [InlineData("is not a node address", "--port", "0", "--seed", "127.0.0.1:4053")]
    [InlineData("names the actor system 'other'", "--port", "0", "--seed", "akka.tcp://other@127.0.0.1:4053")]
    [InlineData("is not ADDRESS:PORT", "--port", "0", "--http", "5080")]
    [InlineData("cannot read the config file", "--port", "0", "--config", "/nonexistent/node.conf")]
    [InlineData("unknown argument '--frob'", "--frob")]
    public async Task Bad_options_exit_2_with_a_clear_message(string message, params string[] args)
    {
        var result = await Cli.Wrap("dotnet")
            .WithArguments(["exec", Program, "node", .. args])
            .WithEnvironmentVariables(env => env.Set("LUAACTORS_TOKEN", null))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StandardError);
    }
}
