using System.Runtime.InteropServices;

namespace LuaActors.Process;

/// <summary>
/// How many VM processes this .NET process can hold, counted in file descriptors: each VM holds
/// <see cref="PerVmViaSpawner"/> (luaactors-spawn: one socket for stdin and stdout) or
/// <see cref="PerVmExecChain"/> (exec chain: three pipes and a pidfd), under RLIMIT_NOFILE,
/// less what the node itself needs (the descriptors open at start plus a reserve for HTTP
/// connections, cluster peers, a start in flight). A start past the budget is refused at once
/// with <see cref="CapacityExceededException"/> instead of running into EMFILE somewhere.
/// One budget per process: the descriptors are the process's, whatever actor system asks.
/// </summary>
internal static class FdBudget
{
    public const int PerVmViaSpawner = 1;
    public const int PerVmExecChain = 4;

    /// <summary>The default of <c>luaactors.capacity.reserved-fds</c>.</summary>
    public const int DefaultReserve = 256;

    private const int RlimitNofile = 7;
    private static readonly object Gate = new();
    private static bool _started;
    private static long _soft;
    private static long _hard;
    private static int _openAtStart;
    private static int _reserve = DefaultReserve;
    private static long _used;

    /// <summary>RLIMIT_NOFILE after <see cref="Start"/> raised it.</summary>
    public static long SoftLimit
    {
        get
        {
            Start();
            return _soft;
        }
    }

    public static long HardLimit
    {
        get
        {
            Start();
            return _hard;
        }
    }

    /// <summary>Descriptors kept for the node itself: those open at start plus the reserve.</summary>
    public static long Kept
    {
        get
        {
            Start();
            return _openAtStart + Volatile.Read(ref _reserve);
        }
    }

    /// <summary>How many VM processes fit, each holding <paramref name="perVm"/> descriptors (spares included).</summary>
    public static long Capacity(int perVm) => Math.Max(0, SoftLimit - Kept) / perVm;

    /// <summary>What VMs hold now, in descriptors.</summary>
    public static long Used => Interlocked.Read(ref _used);

    /// <summary>
    /// Raises the soft RLIMIT_NOFILE to the hard limit (descriptors are what limits how many VMs
    /// a node runs) and notes what is open now. Idempotent; called at library start (the VM
    /// factory) and before the launcher starts (which inherits the raised limit).
    /// </summary>
    public static void Start(int? reserve = null)
    {
        lock (Gate)
        {
            if (reserve is { } asked && asked > _reserve)
            {
                _reserve = asked;
            }

            if (_started)
            {
                return;
            }

            _started = true;
            if (OperatingSystem.IsWindows())
            {
                _soft = _hard = int.MaxValue;
                return;
            }

            var limit = default(RLimit);
            if (getrlimit(RlimitNofile, ref limit) == 0)
            {
                if (limit.Current < limit.Maximum)
                {
                    var raised = limit with { Current = limit.Maximum };
                    if (setrlimit(RlimitNofile, ref raised) == 0)
                    {
                        limit = raised;
                    }
                }

                _soft = (long)Math.Min(limit.Current, int.MaxValue);
                _hard = (long)Math.Min(limit.Maximum, int.MaxValue);
            }
            else
            {
                _soft = _hard = 1024;
            }

            try
            {
                _openAtStart = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
            }
            catch (IOException)
            {
                _openAtStart = 64;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="perVm"/> descriptors for one VM process about to start; throws
    /// <see cref="CapacityExceededException"/> when they are not there. Give them back with
    /// <see cref="Release"/> once the process has ended (or did not start).
    /// </summary>
    public static void Reserve(int perVm)
    {
        var budget = SoftLimit - Kept;
        if (Interlocked.Add(ref _used, perVm) <= budget)
        {
            return;
        }

        Interlocked.Add(ref _used, -perVm);
        throw new CapacityExceededException(
            $"this node is at its capacity of {Capacity(perVm)} VM processes: each holds {perVm} file descriptor{(perVm == 1 ? "" : "s")} " +
            $"and RLIMIT_NOFILE is {_soft} (hard limit {_hard}; {Kept} kept for the node itself). " +
            "Remove VMs, or raise the limit: LimitNOFILE= in the node's systemd unit, or `ulimit -n` (as root, the hard limit too) before starting it");
    }

    public static void Release(int perVm) => Interlocked.Add(ref _used, -perVm);

    /// <summary>"20000 (hard 20000)", for messages.</summary>
    public static string Describe() => $"{SoftLimit}, hard {HardLimit}";

    [StructLayout(LayoutKind.Sequential)]
    private record struct RLimit(ulong Current, ulong Maximum);

#pragma warning disable SYSLIB1054, CA5392 // plain libc calls; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, ref RLimit limit);

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);
#pragma warning restore SYSLIB1054, CA5392
}

/// <summary>
/// A VM process was not started because this node holds as many as its descriptor budget allows
/// (<see cref="FdBudget"/>): the create fails with <c>ErrorKind.Capacity</c>, at once.
/// </summary>
internal sealed class CapacityExceededException(string message) : IOException(message);
