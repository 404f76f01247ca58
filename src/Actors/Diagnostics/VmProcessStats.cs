using System.Globalization;
using System.Runtime.InteropServices;

namespace LuaActors.Diagnostics;

/// <summary>CPU time and resident memory of one VM process, as /proc reports them.</summary>
public readonly record struct ProcessUsage(double UserSeconds, double SystemSeconds, long ResidentBytes)
{
    public double CpuSeconds => UserSeconds + SystemSeconds;
}

/// <summary>
/// Reads a VM process's CPU time from <c>/proc/PID/stat</c> and its resident memory from
/// <c>/proc/PID/statm</c> (Linux; two small reads, no parsing of the longer <c>status</c>).
/// The parsers are separate from the reads so they can be checked without a process.
/// </summary>
public static class VmProcessStats
{
    private const int ScClkTck = 2;

    /// <summary>Clock ticks a second of <c>utime</c>/<c>stime</c> (USER_HZ; 100 on every Linux we know).</summary>
    public static readonly long TicksPerSecond = ReadTicksPerSecond();

    public static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>The process's usage, or null when it is gone (or /proc cannot be read).</summary>
    public static ProcessUsage? Read(int pid)
    {
        try
        {
            var cpu = ParseStat(File.ReadAllText($"/proc/{pid}/stat"), TicksPerSecond);
            var resident = ParseStatmResidentBytes(File.ReadAllText($"/proc/{pid}/statm"), PageSize);
            return cpu is { } c && resident is { } r ? new ProcessUsage(c.User, c.System, r) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process exited between the list and the read.
            return null;
        }
    }

    /// <summary>
    /// User and system CPU seconds from a <c>/proc/PID/stat</c> line: fields 14 and 15 (utime,
    /// stime) in clock ticks. The command name (field 2) is in parentheses and may itself hold
    /// spaces and parentheses, so the fields are counted from the last <c>')'</c>.
    /// </summary>
    public static (double User, double System)? ParseStat(string text, long ticksPerSecond)
    {
        var end = text.LastIndexOf(')');
        if (end < 0 || ticksPerSecond <= 0)
        {
            return null;
        }

        // After ") ": field 3 (state) is index 0, so field n is index n - 3.
        var fields = text[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime))
        {
            return null;
        }

        return ((double)utime / ticksPerSecond, (double)stime / ticksPerSecond);
    }

    /// <summary>Resident bytes from a <c>/proc/PID/statm</c> line: its second field, in pages.</summary>
    public static long? ParseStatmResidentBytes(string text, long pageSize)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pages)
            ? pages * pageSize
            : null;
    }

    private static long ReadTicksPerSecond()
    {
        try
        {
            var ticks = sysconf(ScClkTck);
            return ticks > 0 ? ticks : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

#pragma warning disable SYSLIB1054, CA5392 // a plain libc call; DllImport keeps the project free of unsafe code
    [DllImport("libc")]
    private static extern long sysconf(int name);
#pragma warning restore SYSLIB1054, CA5392
}
