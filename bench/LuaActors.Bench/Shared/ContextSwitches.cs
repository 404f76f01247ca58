namespace LuaActors.Bench.Shared;

/// <summary>
/// Context switches of every thread of this process (Linux: /proc/self/task/*/status), to count
/// how often a path puts a thread to sleep and wakes another: each is a thread hop.
/// </summary>
internal static class ContextSwitches
{
    public static long OfThisProcess()
    {
        long total = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                            || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line[(line.IndexOf(':') + 1)..].Trim());
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread ended meanwhile.
                }
            }
        }
        catch (IOException)
        {
        }

        return total;
    }
}
