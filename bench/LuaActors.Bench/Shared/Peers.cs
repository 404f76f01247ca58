using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using OsProcess = System.Diagnostics.Process;

namespace LuaActors.Bench.Shared;

/// <summary>
/// The service-path peers: a real <c>luaactors node</c> (the Release host, a child process),
/// <c>redis-server</c> without persistence, and the C load generators <c>wrk</c> and
/// <c>redis-benchmark</c>. Every child is tracked by PID and stopped by <see cref="KillAll"/>.
/// </summary>
internal static partial class Peers
{
    private static readonly ConcurrentDictionary<int, OsProcess> Children = new();

    /// <summary>The full path of <paramref name="program"/> on PATH, or null when it is not installed.</summary>
    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    /// <summary>A loopback port free now (the OS picks it; the child binds it right after).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops every child still running: SIGTERM, then SIGKILL after a grace period, by PID.</summary>
    public static void KillAll()
    {
        foreach (var pid in Children.Keys)
        {
            Stop(pid);
        }
    }

    /// <summary>
    /// Starts the Release host (<c>src/Host</c>, built with the bench) as a single-node cluster on its
    /// own loopback cluster and HTTP ports; returns its HTTP base address once <c>GET /vms</c> answers.
    /// </summary>
    /// <param name="configFile">HOCON for the node's <c>--config</c>, or null.</param>
    public static async Task<(int Pid, Uri Http)> StartNodeAsync(string? configFile = null)
    {
        var dll = HostDll();
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"no host build at {dll}: build src/Host -c {Configuration}");
        }

        var http = new Uri($"http://127.0.0.1:{FreePort()}/");
        var pid = Start("dotnet", [dll, "node", "--hostname", "127.0.0.1", "--port", FreePort().ToString(CultureInfo.InvariantCulture),
            "--http", $"127.0.0.1:{http.Port}", "--no-persistence", .. configFile is null ? Array.Empty<string>() : ["--config", configFile]]);
        using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (!Children.TryGetValue(pid, out var process) || process.HasExited)
            {
                throw new InvalidOperationException("the node exited while starting (run it by hand: dotnet " + dll + " node)");
            }

            try
            {
                using var response = await client.GetAsync("vms");
                if (response.IsSuccessStatusCode)
                {
                    return (pid, http);
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException("the node did not answer GET /vms within 90 s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Creates VMs <c>bench-0</c> … on the node (<c>POST /vms</c>).</summary>
    public static async Task CreateVmsAsync(Uri http, int count)
    {
        using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(60) };
        for (var i = 0; i < count; i++)
        {
            using var body = new StringContent($"{{\"id\":\"bench-{i}\"}}", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("vms", body);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"POST /vms bench-{i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>Starts <c>redis-server</c> on a free loopback port, no persistence; returns its PID and port once it answers PING.</summary>
    public static async Task<(int Pid, int Port)> StartRedisAsync(string redisServer)
    {
        var port = FreePort();
        var pid = Start(redisServer, ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"]);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(IPAddress.Loopback, port);
                var stream = socket.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return (pid, port);
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("redis-server did not answer PING within 20 s");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// <c>wrk</c>: POST <c>{"code":"return 1+1"}</c> to <c>/vms/bench-N/execute</c>, N round-robin over
    /// <paramref name="vms"/>, with <paramref name="connections"/> connections for <paramref name="duration"/>.
    /// Throws when a response was not 2xx or a socket failed: a figure must count successes only.
    /// </summary>
    public static async Task<LoadResult> WrkAsync(string wrk, Uri http, int vms, int connections, TimeSpan duration)
    {
        var script = Path.Combine(Path.GetTempPath(), $"luaactors-bench-wrk-{Environment.ProcessId}-{vms}.lua");
        await File.WriteAllTextAsync(script, $$"""
            wrk.method = "POST"
            wrk.body = '{"code":"return 1+1"}'
            wrk.headers["Content-Type"] = "application/json"
            local i = 0
            request = function()
              i = i + 1
              return wrk.format(nil, "/vms/bench-" .. (i % {{vms}}) .. "/execute")
            end
            """);
        try
        {
            var threads = Math.Min(connections, Environment.ProcessorCount);
            var output = await RunAsync(wrk, ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "-s", script, http.ToString()]);
            if (WrkErrors().Match(output) is { Success: true } errors)
            {
                throw new InvalidOperationException($"wrk saw failures ({errors.Value.Trim()}):\n{output}");
            }

            var rate = WrkRate().Match(output);
            var p50 = WrkPercentile("50%").Match(output);
            var p99 = WrkPercentile("99%").Match(output);
            if (!rate.Success || !p50.Success || !p99.Success)
            {
                throw new InvalidDataException("could not read wrk's output:\n" + output);
            }

            return new LoadResult(double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
                Micros(p50.Groups[1].Value, p50.Groups[2].Value), Micros(p99.Groups[1].Value, p99.Groups[2].Value));
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary><c>redis-benchmark</c> running <c>EVAL "return 1+1" 0</c> <paramref name="requests"/> times over <paramref name="connections"/> connections.</summary>
    public static async Task<LoadResult> RedisEvalAsync(string redisBenchmark, int port, int connections, int requests)
    {
        var output = await RunAsync(redisBenchmark, ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", connections.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture), "--csv",
            "EVAL", "return 1+1", "0"]);
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("\"EVAL", StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidDataException("could not read redis-benchmark's output:\n" + output);
        var cells = line.Split(',').Select(c => c.Trim('"')).ToArray();
        double Cell(int i) => double.Parse(cells[i], CultureInfo.InvariantCulture);
        return new LoadResult(Cell(1), Cell(4) * 1000, Cell(6) * 1000);
    }

    /// <summary>Stops one child by PID: SIGTERM (the node shuts its VMs down), SIGKILL after 10 s.</summary>
    public static void Stop(int pid)
    {
        if (!Children.TryRemove(pid, out var process))
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                using (var kill = OsProcess.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]))
                {
                    kill.WaitForExit();
                }

                if (!process.WaitForExit(10_000))
                {
                    process.Kill();
                    process.WaitForExit(5_000);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>src/Host's build of the bench's own configuration (the bench project builds it).</summary>
    private static string HostDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LuaActors.sln")))
        {
            dir = dir.Parent;
        }

        var root = dir?.FullName ?? throw new DirectoryNotFoundException("LuaActors.sln not found above " + AppContext.BaseDirectory);
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        return Path.Combine(root, "src", "Host", "bin", Configuration, framework, "luaactors.dll");
    }

    /// <summary>Starts a tracked child; its output is read and dropped (a full pipe would stall it).</summary>
    private static int Start(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = OsProcess.Start(info) ?? throw new InvalidOperationException("could not start " + program);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Children[process.Id] = process;
        return process.Id;
    }

    /// <summary>Runs a load generator to its end; its standard output, or an exception with its error output.</summary>
    private static async Task<string> RunAsync(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = OsProcess.Start(info) ?? throw new InvalidOperationException("could not start " + program);
        Children[process.Id] = process;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {await stderr}{await stdout}");
            }

            return await stdout;
        }
        finally
        {
            Children.TryRemove(process.Id, out _);
        }
    }

    private static double Micros(string value, string unit) =>
        double.Parse(value, CultureInfo.InvariantCulture) * unit switch
        {
            "us" => 1,
            "ms" => 1000,
            "s" => 1_000_000,
            _ => throw new InvalidDataException("unknown wrk time unit " + unit),
        };

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex WrkRate();

    [GeneratedRegex(@"(Non-2xx or 3xx responses:\s+\d+|Socket errors:[^\n]*)")]
    private static partial Regex WrkErrors();

    private static Regex WrkPercentile(string percent) => new(@"^\s+" + Regex.Escape(percent) + @"\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
}

/// <summary>One load generator run: completed requests per second and latency percentiles in µs.</summary>
internal sealed record LoadResult(double PerSecond, double P50Us, double P99Us);
