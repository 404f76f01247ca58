using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using CliWrap;

namespace LuaActors.Tests.Support;

/// <summary>
/// A real `luaactors node` process on loopback (port 0 for the cluster and the HTTP API), for
/// what an in-process node cannot show: its own environment, its own resource limits
/// (<c>prlimit</c> before it). Disposing sends SIGTERM and waits; SIGKILL if it hangs.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly CommandTask<CommandResult> _running;
    private readonly CancellationTokenSource _kill;
    private readonly ConcurrentQueue<string> _stdout;
    private readonly StringBuilder _stderr;

    private NodeProcess(CommandTask<CommandResult> running, CancellationTokenSource kill, ConcurrentQueue<string> stdout, StringBuilder stderr)
    {
        _running = running;
        _kill = kill;
        _stdout = stdout;
        _stderr = stderr;
    }

    public int ProcessId => _running.ProcessId;

    /// <summary>A client of its API, with the token when the node has one.</summary>
    public HttpClient Client { get; private set; } = null!;

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

    /// <summary>
    /// Starts the node with <paramref name="environment"/> added to ours (null values removed),
    /// after <paramref name="prefix"/> (e.g. <c>prlimit --nofile=400:400</c>) and with
    /// <paramref name="args"/> after <c>node --port 0 --http 127.0.0.1:0</c>; returns once it is Up
    /// (within <paramref name="upWithin"/> of printing its URL, 30 s by default).
    /// </summary>
    public static async Task<NodeProcess> StartAsync(
        IReadOnlyDictionary<string, string?> environment, string[]? prefix = null, string[]? args = null, TimeSpan? upWithin = null)
    {
        var stdout = new ConcurrentQueue<string>();
        var stderr = new StringBuilder();
        var kill = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        string[] command = [.. prefix ?? [], "dotnet", "exec", TestPaths.LuaActorsDll, "node", "--port", "0", "--http", "127.0.0.1:0", .. args ?? []];
        var running = Cli.Wrap(command[0])
            .WithArguments(command.Skip(1))
            .WithEnvironmentVariables(env =>
            {
                env.Set("LUAACTORS_SEEDS", null).Set("LUAACTORS_HOSTNAME", null).Set("LUAACTORS_TOKEN", null);
                foreach (var (name, value) in environment)
                {
                    env.Set(name, value);
                }
            })
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
        var node = new NodeProcess(running, kill, stdout, stderr);
        try
        {
            string? Line(string start) => stdout.FirstOrDefault(l => l.StartsWith(start, StringComparison.Ordinal))?[start.Length..];
            await Eventually.TrueAsync(() => Line("http: ") is not null || running.Task.IsCompleted, TimeSpan.FromSeconds(60), "the node printing its HTTP URL");
            Assert.False(running.Task.IsCompleted, $"the node exited: {node.Stderr}");
            await Eventually.TrueAsync(() => stdout.Any(l => l.Contains("(this node)", StringComparison.Ordinal) && l.Contains("member up", StringComparison.Ordinal)),
                upWithin ?? TimeSpan.FromSeconds(30), "the node printing that it is up");
            // One connection, kept alive: a node at its fd limit may not accept another.
            node.Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
            {
                BaseAddress = new Uri(Line("http: ")!),
                Timeout = TimeSpan.FromSeconds(60),
            };
            if (environment.TryGetValue("LUAACTORS_TOKEN", out var token) && token is not null)
            {
                node.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (!_running.Task.IsCompleted)
        {
            await Cli.Wrap("kill").WithArguments(["-TERM", ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                .WithValidation(CommandResultValidation.None).ExecuteAsync();
            // A node that does not stop within a minute is killed (its VMs die with its launcher).
            _kill.CancelAfter(TimeSpan.FromMinutes(1));
        }

        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // Killed.
        }

        _kill.Dispose();
    }
}
