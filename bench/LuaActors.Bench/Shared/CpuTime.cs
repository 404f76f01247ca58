namespace LuaActors.Bench.Shared;

/// <summary>CPU time (user + system) of this process and of child processes, from /proc (Linux).</summary>
internal static class CpuTime
{
    /// <summary>Clock ticks per second of /proc/*/stat times (USER_HZ: 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static TimeSpan OfThisProcess()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>utime + stime of <paramref name="pid"/>, or zero when it is gone.</summary>
    public static TimeSpan OfProcess(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which is in parentheses and may hold spaces.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 of the line: 12 and 13 after "pid (comm) ".
            var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
            return TimeSpan.FromSeconds(ticks / TicksPerSecond);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    public static TimeSpan OfProcesses(IEnumerable<int> pids) =>
        pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + OfProcess(pid));
    /// <summary>utime + stime of <paramref name="pid"/> and of every process below it (a node's launcher and VM processes).</summary>
    public static TimeSpan OfTree(int pid) => OfProcesses(Descendants(pid).Append(pid));

    /// <summary>The machine's CPU ticks since boot from /proc/stat: busy (everything but idle and iowait) and total, all cores.</summary>
    public static (long Busy, long Total) OfMachine()
    {
        var cells = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        var total = cells.Sum();
        return (total - cells[3] - cells[4], total);
    }

    /// <summary>The PIDs below <paramref name="pid"/>, from each process's parent in /proc/*/stat.</summary>
    private static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parents[child] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, _) in parents.Where(p => p.Value == parent))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }
}
