namespace LuaActors.Process;

/// <summary>
/// How many VM processes this node can hold, in words: what the start-up log and
/// <c>luaactors doctor</c> say (<see cref="FdBudget"/>).
/// </summary>
public static class VmCapacity
{
    /// <summary>The capacity through luaactors-spawn (or the exec chain when it was not built).</summary>
    public static long Processes => FdBudget.Capacity(PerVm);

    /// <summary>Descriptors each VM holds in this process.</summary>
    public static int PerVm => Spawner.BinaryPath is null ? FdBudget.PerVmExecChain : FdBudget.PerVmViaSpawner;

    /// <summary>RLIMIT_NOFILE (soft, after raising it to the hard limit).</summary>
    public static long FdLimit => FdBudget.SoftLimit;

    /// <summary>One line: the capacity and where it comes from.</summary>
    public static string Describe() =>
        $"{Processes} VM processes on this node (RLIMIT_NOFILE {FdBudget.SoftLimit}, hard limit {FdBudget.HardLimit}; " +
        $"{PerVm} descriptor{(PerVm == 1 ? "" : "s")} per VM {(PerVm == 1 ? "through luaactors-spawn" : "through the exec chain")}, " +
        $"{FdBudget.PerVmExecChain} for a type with launcher = exec-chain; {FdBudget.Kept} kept for the node). " +
        "Raise it with LimitNOFILE= in a systemd unit or `ulimit -n`";
}
