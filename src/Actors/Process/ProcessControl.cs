using System.Runtime.InteropServices;

namespace LuaActors.Process;

/// <summary>
/// The few Linux calls the process owner makes on a VM process it started: a pidfd (a handle
/// that cannot point at a recycled PID), SIGKILL through it, and the address-space limit.
/// </summary>
internal static class ProcessControl
{
    private const int Sigkill = 9;
    private const int RlimitAs = 9;
    private const int Esrch = 3;
    private const int Enosys = 38;

    // Same numbers on x86-64 and arm64 (syscalls added after 5.0 share one table).
    private const long SysPidfdSendSignal = 424;
    private const long SysPidfdOpen = 434;

    /// <summary>A pidfd for <paramref name="pid"/>, or -1 when the kernel has none (before 5.3) or the process is gone.</summary>
    public static int OpenPidfd(int pid)
    {
        var fd = Syscall(SysPidfdOpen, pid, 0, 0, 0);
        return fd >= 0 ? (int)fd : -1;
    }

    /// <summary>
    /// SIGKILL through <paramref name="pidfd"/> (or to <paramref name="pid"/> when there is none).
    /// False when the process was already gone.
    /// </summary>
    public static bool Kill(int pidfd, int pid)
    {
        if (pidfd >= 0)
        {
            if (Syscall(SysPidfdSendSignal, pidfd, Sigkill, 0, 0) == 0)
            {
                return true;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error != Enosys)
            {
                return error != Esrch ? throw new IOException($"pidfd_send_signal({pid}) failed: errno {error}") : false;
            }
        }

        if (kill(pid, Sigkill) == 0)
        {
            return true;
        }

        var killError = Marshal.GetLastPInvokeError();
        return killError != Esrch ? throw new IOException($"kill({pid}) failed: errno {killError}") : false;
    }

    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// Sets RLIMIT_AS of a running process (prlimit(2)): what <c>prlimit --as</c> did as one more
    /// exec per VM start. False when the process is already gone.
    /// </summary>
    public static bool SetAddressSpaceLimit(int pid, long bytes)
    {
        var limit = new RLimit { Current = (ulong)bytes, Maximum = (ulong)bytes };
        if (prlimit(pid, RlimitAs, ref limit, IntPtr.Zero) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        return error != Esrch ? throw new IOException($"prlimit({pid}, RLIMIT_AS) failed: errno {error}") : false;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    private static long Syscall(long number, long a1, long a2, long a3, long a4) => syscall(number, a1, a2, a3, a4);

#pragma warning disable SYSLIB1054, CA5392 // plain libc calls; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern long syscall(long number, long a1, long a2, long a3, long a4);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int prlimit(int pid, int resource, ref RLimit newLimit, IntPtr oldLimit);
#pragma warning restore SYSLIB1054, CA5392
}
