using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Tests.Support;

/// <summary>Finds VM processes through /proc, to prove none outlives its owner.</summary>
internal static class LuaProcesses
{
    /// <summary>
    /// Live lua5.4 processes started by <paramref name="ownerPid"/>: children of its luaactors-spawn
    /// (or its own children, when it starts them through the exec chain).
    /// </summary>
    public static IReadOnlyList<int> StartedBy(int ownerPid)
    {
        var live = new List<(int Pid, (string Comm, char State, int ParentPid, int Session) Stat)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { State: not 'Z' } stat)
            {
                live.Add((pid, stat));
            }
        }

        var parents = live.Where(p => p.Stat.Comm == "luaactors-spawn" && p.Stat.ParentPid == ownerPid)
            .Select(p => p.Pid).Append(ownerPid).ToHashSet();
        return live.Where(p => p.Stat.Comm == "lua5.4" && parents.Contains(p.Stat.ParentPid)).Select(p => p.Pid).ToList();
    }

    /// <summary>The PID of the process the VM runs now.</summary>
    public static async Task<int> PidAsync(LuaVm vm) => (await vm.GetInfoAsync()).ProcessId!.Value;

    /// <summary>Waits until the VM runs a process other than <paramref name="oldPid"/>.</summary>
    public static async Task<int> NewPidAsync(LuaVm vm, int oldPid)
    {
        var pid = 0;
        await Eventually.TrueAsync(async () =>
        {
            var info = await vm.GetInfoAsync();
            pid = info.State == VmState.Running && info.ProcessId is { } now && now != oldPid ? now : 0;
            return pid != 0;
        }, TimeSpan.FromSeconds(20), "the VM came back with a new process");
        return pid;
    }

    public static string Comm(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    public static int ParentOf(int pid) => Stat(pid)?.ParentPid ?? throw new InvalidOperationException($"no process {pid}");

    /// <summary>The session <paramref name="pid"/> belongs to (its own PID when it leads it).</summary>
    public static int SessionOf(int pid) => Stat(pid)?.Session ?? throw new InvalidOperationException($"no process {pid}");

    /// <summary>Whether <paramref name="pid"/> is a live (not zombie) process.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { State: not 'Z' };

    /// <summary>
    /// Waits (up to 10 s) until every pid is gone: SIGKILL is sent synchronously, but the kernel
    /// takes a moment to end the process.
    /// </summary>
    public static async Task AssertGoneAsync(IEnumerable<int> pids)
    {
        var remaining = pids.ToList();
        for (var attempt = 0; attempt < 200 && remaining.Any(IsAlive); attempt++)
        {
            await Task.Delay(50);
        }

        Assert.DoesNotContain(remaining, IsAlive);
    }

    public static void Kill9(int pid) => System.Diagnostics.Process.GetProcessById(pid).Kill();

    private static (string Comm, char State, int ParentPid, int Session)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var rest = text[(close + 2)..].Split(' ');
            // After the command name: state, ppid, pgrp, session, ...
            return (text[(open + 1)..close], rest[0][0], int.Parse(rest[1]), int.Parse(rest[3]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
