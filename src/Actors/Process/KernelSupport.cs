using System.Runtime.InteropServices;

namespace LuaActors.Process;

/// <summary>
/// What this kernel offers for confining VM processes, probed cheaply from this process (one
/// system call and a few /proc reads, no process started): what <c>luaactors doctor</c> reports.
/// </summary>
/// <param name="LandlockAbi">
/// The Landlock ABI version (1: filesystem; 4: also TCP bind/connect by port; 6: also scoping), 0
/// when the kernel has no Landlock or it is not enabled (not in the boot's LSM list).
/// </param>
/// <param name="SeccompFilter">Seccomp BPF filters can be installed (CONFIG_SECCOMP_FILTER).</param>
/// <param name="NoNewPrivs">PR_SET_NO_NEW_PRIVS exists (Linux 3.5+): unprivileged filters need it.</param>
/// <param name="UserNamespaces">An unprivileged process may create a user namespace.</param>
/// <param name="NetworkNamespaces">The kernel has network namespaces (inside a user namespace: unprivileged).</param>
public sealed record KernelSupport(int LandlockAbi, bool SeccompFilter, bool NoNewPrivs, bool UserNamespaces, bool NetworkNamespaces)
{
    /// <summary>The first Landlock ABI with TCP port rules (Linux 6.7).</summary>
    public const int LandlockNetworkAbi = 4;

    private const long SysLandlockCreateRuleset = 444; // the same on every architecture (added after 5.0)
    private const long LandlockCreateRulesetVersion = 1;

    /// <summary>This machine, probed now.</summary>
    public static KernelSupport Probe() => new(
        ProbeLandlockAbi(),
        ProbeSeccompFilter(),
        StatusField("NoNewPrivs") is not null,
        ProbeUserNamespaces(),
        File.Exists("/proc/self/ns/net") && ReadNumber("/proc/sys/user/max_net_namespaces") is not 0);

    /// <summary>One line: "landlock ABI 7, seccomp filters yes, …".</summary>
    public override string ToString() =>
        $"landlock {(LandlockAbi > 0 ? $"ABI {LandlockAbi}" : "no")}, seccomp filters {YesNo(SeccompFilter)}, " +
        $"no_new_privs {YesNo(NoNewPrivs)}, user namespaces {YesNo(UserNamespaces)}, network namespaces {YesNo(NetworkNamespaces)}";

    private static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>
    /// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) answers the ABI version;
    /// ENOSYS (not built) or EOPNOTSUPP (built, not enabled) mean none.
    /// </summary>
    private static int ProbeLandlockAbi()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var abi = syscall(SysLandlockCreateRuleset, 0, 0, LandlockCreateRulesetVersion, 0);
        return abi > 0 ? (int)abi : 0;
    }

    /// <summary>The kernel lists the filter actions it can take only when it has filters.</summary>
    private static bool ProbeSeccompFilter()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/seccomp/actions_avail").Split(' ', StringSplitOptions.TrimEntries).Contains("errno");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Allowed unless a limit says no: max_user_namespaces 0, Debian's unprivileged_userns_clone
    /// 0, or Ubuntu's AppArmor restriction on. Root (or CAP_SYS_ADMIN) is not "unprivileged".
    /// </summary>
    private static bool ProbeUserNamespaces() =>
        File.Exists("/proc/self/ns/user")
        && ReadNumber("/proc/sys/user/max_user_namespaces") is not 0
        && ReadNumber("/proc/sys/kernel/unprivileged_userns_clone") is not 0
        && ReadNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") is null or 0;

    /// <summary>A number in a /proc file, or null when the file is not there (the feature's knob is absent).</summary>
    private static long? ReadNumber(string path)
    {
        try
        {
            return long.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? StatusField(string name)
    {
        try
        {
            return File.ReadLines("/proc/self/status")
                .FirstOrDefault(line => line.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

#pragma warning disable SYSLIB1054, CA5392 // a plain libc call; DllImport keeps the project free of unsafe code
    [DllImport("libc", SetLastError = true)]
    private static extern long syscall(long number, long a1, long a2, long a3, long a4);
#pragma warning restore SYSLIB1054, CA5392
}
