using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using LuaActors.Bench.Shared;
using LuaActors.Process;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// Many idle VMs on one node: a real <c>luaactors node</c> (the Release host) gets steps of 1000
/// VMs (<c>POST /vms</c>, 50 at a time) up to <c>--vms</c> (10,000; quick: steps of 100 up to 300). After
/// each step: how long it took, the node's RSS per VM, the PSS of a VM process
/// (/proc/PID/smaps_rollup, a sample of them) and the execute p50 on random VMs over HTTP, so the
/// cost's growth is visible. Stops at the first create the node refuses, and says why.
/// </summary>
internal sealed class Scale : IScenario
{
    private const int PssSample = 300;
    private const int Concurrency = 50;

    /// <summary>USER_HZ: the unit of /proc/PID/stat's CPU times (100 on Linux everywhere).</summary>
    private const double ClockTicks = 100;

    private readonly record struct CpuTime(double User, double System)
    {
        public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.User - b.User, a.System - b.System);
    }

    public string Name => "scale";

    public string Description => "VMs on one node in steps of 1000 up to --vms (10,000; quick: 100s up to 300): time, RSS, PSS, execute p50";

    public async Task RunAsync(BenchContext context)
    {
        var step = context.Size(100, 1000);
        var target = context.Vms ?? context.Size(300, 10_000);
        var executes = context.Size(200, 1000);
        // A step of 1000 is 1000 registry writes, 50 at a time: on a loaded machine the registry's
        // default 3 s (6 s for a majority read) is not enough, and the figure is the time.
        var config = Path.Combine(Path.GetTempPath(), $"luaactors-bench-scale-{Environment.ProcessId}.conf");
        await File.WriteAllTextAsync(config, "luaactors.cluster.registry-timeout = 60s\nluaactors.api.ask-timeout = 300s\n");
        var (pid, http) = await Peers.StartNodeAsync(config);
        File.Delete(config);
        var launcherPid = 0;
        var vmPids = new List<int>();
        try
        {
            using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromMinutes(20) };
            var baseRssKb = RssKb(pid);
            BenchContext.Say($"node {pid}: RLIMIT_NOFILE {Limit(pid)}, RSS {baseRssKb / 1024.0:F0} MB before any VM; steps of {step} up to {target}...");
            var table = new Table($"scale: steps of {step} VMs on one node, up to {target}",
                "VMs", "step s", "node CPU user s", "node CPU sys s", "launcher CPU s", "node RSS MB", "node RSS/VM KiB", "PSS/VM process KiB", "execute p50 µs", "execute p99 µs");
            var steps = new List<(int Vms, double Seconds, double ExecP50Us)>();
            var random = new Random(14);
            string? stoppedBy = null;
            for (var made = 0; made < target;)
            {
                var count = Math.Min(step, target - made);
                var first = made;
                // CPU seconds from /proc, load-independent: the node's, and the launcher's (it forks every VM).
                launcherPid = launcherPid != 0 ? launcherPid : Children(pid).FirstOrDefault(c => Comm(c) == "luaactors-spawn");
                var nodeCpuBefore = Cpu(pid);
                var launcherCpuBefore = launcherPid != 0 ? Cpu(launcherPid) : default;
                var started = Stopwatch.GetTimestamp();
                // POST /vms, Concurrency at a time (a POST /groups of 1000 is one request that
                // answers only when all have: one slow member holds the whole figure back).
                var next = 0;
                string? refused = null;
                await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
                {
                    int i;
                    while (refused is null && (i = Interlocked.Increment(ref next)) <= count)
                    {
                        // A long time limit: on a loaded machine a VM's first answer (its start)
                        // may take longer than the default 5 s, and the VM would be killed as stuck.
                        using var body = Json(new { id = VmId(first + i), limits = new { timeoutMs = 120_000 } });
                        using var response = await client.PostAsync("vms", body);
                        if (!response.IsSuccessStatusCode)
                        {
                            refused ??= $"POST /vms {VmId(first + i)} (after {first} VMs): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                        }
                    }
                }));
                if (refused is not null)
                {
                    stoppedBy = refused;
                    break;
                }

                var seconds = Stats.Seconds(Stopwatch.GetTimestamp() - started);
                made += count;
                var nodeCpu = Cpu(pid) - nodeCpuBefore;
                var launcherWasKnown = launcherPid != 0;
                launcherPid = launcherPid != 0 ? launcherPid : Children(pid).FirstOrDefault(c => Comm(c) == "luaactors-spawn");
                // A launcher first seen after the step started: all its CPU is this step's.
                var launcherCpu = launcherPid == 0 ? default : Cpu(launcherPid) - (launcherWasKnown ? launcherCpuBefore : default);
                vmPids = launcherPid != 0 ? Children(launcherPid) : Children(pid).Where(c => Comm(c) == "lua5.4").ToList();
                var rssKb = RssKb(pid);
                var pssKb = vmPids.OrderBy(_ => random.Next()).Take(PssSample).Select(PssKb).Where(p => p > 0).DefaultIfEmpty(double.NaN).Average();
                var latency = new Samples();
                for (var i = 0; i < executes; i++)
                {
                    var id = VmId(1 + random.Next(made));
                    var call = Stopwatch.GetTimestamp();
                    using var body = Json(new { code = "return 1+1" });
                    using var response = await client.PostAsync($"vms/{id}/execute", body);
                    var text = await response.Content.ReadAsStringAsync();
                    latency.AddSince(call);
                    if (!response.IsSuccessStatusCode || !text.Contains("\"ok\":true", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"execute on {id}: {(int)response.StatusCode} {text}");
                    }
                }

                var p50 = latency.PercentileUs(50);
                steps.Add((made, seconds, p50));
                table.Row(made, seconds, nodeCpu.User, nodeCpu.System, launcherCpu.User + launcherCpu.System, rssKb / 1024.0, (rssKb - baseRssKb) / made, pssKb, p50, latency.PercentileUs(99));
                BenchContext.Say($"{made} VMs ({vmPids.Count} processes): step {seconds:F2} s, node CPU {nodeCpu.User:F2}+{nodeCpu.System:F2} s, launcher CPU {launcherCpu.User + launcherCpu.System:F2} s, node RSS {rssKb / 1024.0:F0} MB, PSS/VM {pssKb:F0} KiB, execute p50 {p50:F0} µs");
                context.Set($"scale_{made}_step_s", seconds);
                context.Set($"scale_{made}_node_cpu_user_s", nodeCpu.User);
                context.Set($"scale_{made}_node_cpu_sys_s", nodeCpu.System);
                context.Set($"scale_{made}_launcher_cpu_s", launcherCpu.User + launcherCpu.System);
                context.Set($"scale_{made}_node_rss_mb", rssKb / 1024.0);
                context.Set($"scale_{made}_node_rss_per_vm_kb", (rssKb - baseRssKb) / made);
                context.Set($"scale_{made}_pss_per_vm_kb", pssKb);
                context.Set($"scale_{made}_exec_p50_us", p50);
                context.Set($"scale_{made}_exec_p99_us", latency.PercentileUs(99));
            }

            table.Print();
            var reached = steps.Count > 0 ? steps[^1].Vms : 0;
            context.Set("scale_target_vms", target);
            context.Set("scale_vms_reached", reached);
            if (stoppedBy is not null)
            {
                BenchContext.Say($"stopped at {reached} VMs: {stoppedBy}");
                context.Set("scale_stopped_by", stoppedBy);
            }

            if (steps.Count > 0)
            {
                var first = steps[0];
                // Each step against the first (steps of one size only: a last, smaller one is left out).
                var full = steps.Where(s => s.Vms % step == 0 || s.Vms == first.Vms).ToList();
                context.Set("scale_step_time_ratio_max", full.Max(s => s.Seconds) / first.Seconds);
                context.Set("scale_exec_p50_ratio", steps[^1].ExecP50Us / first.ExecP50Us);
            }

            context.Set("scale_reached_ratio", (double)reached / target);
            context.Target("scale-vms", $"{target} idle VMs on one node", "scale_reached_ratio", 1.0, atMost: false);
            context.Target("scale-step-time", $"each step of {step} created within 1.5x the time of the first", "scale_step_time_ratio_max", 1.5, atMost: true);
            context.Target("scale-exec-p50", $"execute p50 at {target} VMs within 1.2x of that at {step}", "scale_exec_p50_ratio", 1.2, atMost: true);
        }
        finally
        {
            BenchContext.Say("stopping the node...");
            Peers.Stop(pid);
            // The launcher and every VM process die with the node (their death signal): check.
            var left = vmPids.Append(launcherPid).Where(p => p > 0 && Directory.Exists($"/proc/{p}")).ToList();
            for (var wait = Stopwatch.StartNew(); left.Count > 0 && wait.Elapsed < TimeSpan.FromSeconds(30); left = left.Where(p => Directory.Exists($"/proc/{p}")).ToList())
            {
                await Task.Delay(200);
            }

            BenchContext.Say(left.Count == 0
                ? $"node stopped; all {vmPids.Count} VM processes are gone"
                : $"node stopped; {left.Count} of its processes are still there: {string.Join(" ", left.Take(10))}");
        }
    }

    private static string VmId(int n) => "scale-" + n.ToString(CultureInfo.InvariantCulture);

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private static double RssKb(int pid) => (ProcessMemory.ResidentBytes(pid) ?? 0) / 1024.0;

    /// <summary>The process's proportional set size (its share of shared pages), KiB; 0 when it is gone.</summary>
    private static double PssKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line["Pss:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>User and system CPU seconds a process has used so far (/proc/PID/stat); zero when it is gone.</summary>
    private static CpuTime Cpu(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command (which may hold spaces) in parentheses: utime is the 14th field, stime the 15th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return new CpuTime(
                double.Parse(fields[11], CultureInfo.InvariantCulture) / ClockTicks,
                double.Parse(fields[12], CultureInfo.InvariantCulture) / ClockTicks);
        }
        catch (IOException)
        {
            return default;
        }
    }

    private static string Limit(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var cells = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            return cells.Length >= 2 ? $"{cells[0]} (hard {cells[1]})" : "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The direct children of <paramref name="parent"/> (from /proc/PID/task/*/children).</summary>
    private static List<int> Children(int parent)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{parent}/task"))
            {
                try
                {
                    children.AddRange(File.ReadAllText(Path.Combine(task, "children"))
                        .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
                }
                catch (IOException)
                {
                    // That thread ended.
                }
            }
        }
        catch (IOException)
        {
            // The process ended.
        }

        return children;
    }
}
