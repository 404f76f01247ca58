using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CliWrap;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// A real `luaactors node` process with persistence flags, on fixed loopback ports so that it can
/// be started again as the same member (seeds keep their addresses across a full restart).
/// <see cref="StopAsync"/> sends SIGTERM, <see cref="KillAsync"/> SIGKILL.
/// </summary>
internal sealed class DurableNode : IAsyncDisposable
{
    private readonly CommandTask<CommandResult> _running;
    private readonly CancellationTokenSource _kill;
    private readonly ConcurrentQueue<string> _stdout;
    private readonly StringBuilder _stderr;

    private DurableNode(CommandTask<CommandResult> running, CancellationTokenSource kill, ConcurrentQueue<string> stdout, StringBuilder stderr, int httpPort)
    {
        _running = running;
        _kill = kill;
        _stdout = stdout;
        _stderr = stderr;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Client { get; }

    public int ProcessId => _running.ProcessId;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Two free loopback ports (cluster, HTTP) for one node; kept for its restarts.</summary>
    public static (int Port, int Http) FreePorts() => (FreePort(), FreePort());

    /// <summary>The command line's address of the node on <paramref name="port"/>.</summary>
    public static string Seed(int port) => $"akka.tcp://luaactors@127.0.0.1:{port}";

    /// <summary>
    /// Starts `luaactors node` with <paramref name="persistence"/> flags and returns once its HTTP
    /// API answers and it is Up (<paramref name="waitUp"/>: a node that cannot start returns at exit).
    /// </summary>
    public static async Task<DurableNode> StartAsync((int Port, int Http) ports, string[] persistence, IReadOnlyList<int>? seeds = null, bool waitUp = true)
    {
        var stdout = new ConcurrentQueue<string>();
        var stderr = new StringBuilder();
        var kill = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        string[] args =
        [
            "exec", TestPaths.LuaActorsDll, "node", "--port", ports.Port.ToString(CultureInfo.InvariantCulture),
            "--http", $"127.0.0.1:{ports.Http}", .. (seeds ?? []).SelectMany(s => new[] { "--seed", Seed(s) }), .. persistence,
        ];
        var running = Cli.Wrap("dotnet")
            .WithArguments(args)
            .WithEnvironmentVariables(env => env.Set("LUAACTORS_SEEDS", null).Set("LUAACTORS_HOSTNAME", null).Set("LUAACTORS_TOKEN", null)
                .Set("LUAACTORS_CONFIG", Config.Value))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(stdout.Enqueue))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
            {
                lock (stderr)
                {
                    stderr.AppendLine(line);
                }
            }))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(kill.Token);
        var node = new DurableNode(running, kill, stdout, stderr, ports.Http);
        if (!waitUp)
        {
            return node;
        }

        try
        {
            await Eventually.TrueAsync(() => stdout.Any(l => l.Contains("(this node)", StringComparison.Ordinal) && l.Contains("member up", StringComparison.Ordinal))
                || running.Task.IsCompleted, TimeSpan.FromSeconds(90), "the node printing that it is up");
            Assert.False(running.Task.IsCompleted, $"the node exited: {node.Stderr}");
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>The exit code, once the node has exited by itself.</summary>
    public async Task<int> ExitCodeAsync() => (await _running).ExitCode;

    /// <summary>SIGTERM: the node leaves the cluster and stops its VMs.</summary>
    public Task StopAsync() => SignalAsync("TERM");

    /// <summary>SIGKILL: nothing runs after it (its VMs die with their launcher).</summary>
    public Task KillAsync() => SignalAsync("KILL");

    /// <summary>The VM's <c>return CODE</c> value, as JSON.</summary>
    public async Task<JsonElement> EvalAsync(string vmId, string code)
    {
        using var response = await Client.PostAsJsonAsync($"vms/{vmId}/execute", new { code });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"execute on {vmId}: {(int)response.StatusCode} {body}");
        Assert.True(body.GetProperty("ok").GetBoolean(), $"execute on {vmId}: {body}");
        return body.GetProperty("values")[0];
    }

    public async Task<HttpResponseMessage> CreateAsync(string vmId, string initScript) =>
        await Client.PostAsJsonAsync("vms", new { id = vmId, initScript });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_running.Task.IsCompleted)
        {
            await SignalAsync("TERM");
        }

        _kill.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        if (!_running.Task.IsCompleted)
        {
            await Cli.Wrap("kill").WithArguments(["-" + signal, _running.ProcessId.ToString(CultureInfo.InvariantCulture)])
                .WithValidation(CommandResultValidation.None).ExecuteAsync();
            _kill.CancelAfter(TimeSpan.FromMinutes(1));
        }

        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // Killed after a minute.
        }
    }

    /// <summary>Test limits and a short split-brain wait (three nodes on one machine, stopped together).</summary>
    private static readonly Lazy<string> Config = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"luaactors-durable-test-{Environment.ProcessId}.conf");
        File.WriteAllText(path, TestConfig.Hocon.Replace("luaactors.persistence.mode = off", "", StringComparison.Ordinal)
            + "akka.cluster.split-brain-resolver.stable-after = 5s\n"
            // No idle spare process: the node's lua5.4 processes are exactly its VMs.
            + "luaactors.vm-types.basic.spare-processes = 0\n");
        return path;
    });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
