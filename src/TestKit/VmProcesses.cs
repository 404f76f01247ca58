namespace LuaActors.TestKit;

/// <summary>Checks through /proc that VM processes are gone (the product runs on Linux only).</summary>
internal static class VmProcesses
{
    /// <summary>Waits until none of <paramref name="pids"/> is a live lua process; returns those still alive when the time is up.</summary>
    public static async Task<IReadOnlyList<int>> WaitGoneAsync(IReadOnlyList<int> pids, TimeSpan within)
    {
        // SIGKILL is sent at once, but the kernel takes a moment to end a process.
        var deadline = DateTime.UtcNow + within;
        var alive = pids.Where(IsAliveLua).ToList();
        while (alive.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50).ConfigureAwait(false);
            alive = alive.Where(IsAliveLua).ToList();
        }

        return alive;
    }

    public static void Kill(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile.
            }
        }
    }

    /// <summary>Alive (not a zombie) and still a Lua interpreter, so a reused pid is not mistaken for the VM.</summary>
    private static bool IsAliveLua(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var comm = stat[(open + 1)..close];
            var state = stat[close + 2];
            return state != 'Z' && comm.StartsWith("lua", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
