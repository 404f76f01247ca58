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
}
