using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// The rules of a spec that do not depend on its type (the id, the type's name, the limits),
/// checked once, by the manager that takes the create; and the limits a VM of a valid spec runs
/// with, its own where given, else the configured defaults.
/// </summary>
internal static class VmSpecRules
{
    /// <summary>What is wrong with <paramref name="spec"/>, or null when it is valid.</summary>
    public static string? Problem(VmSpec spec)
    {
        if (VmId.Problem(spec.VmId) is { } badId)
        {
            return badId;
        }

        if (string.IsNullOrWhiteSpace(spec.Type))
        {
            return "the VM type is empty";
        }

        var limits = spec.Limits ?? VmLimits.Default;
        return limits switch
        {
            { TimeoutMs: <= 0 } => $"TimeoutMs must be positive (got {limits.TimeoutMs})",
            { MemoryMb: <= 0 or > 1 << 20 } => $"MemoryMb must be between 1 and {1 << 20} (got {limits.MemoryMb})",
            { OutputCapBytes: < 0 } => $"OutputCapBytes must not be negative (got {limits.OutputCapBytes})",
            { InboxCapacity: <= 0 } => $"InboxCapacity must be positive (got {limits.InboxCapacity})",
            _ => null,
        };
    }
}

/// <summary>The limits one VM runs with: its spec's, else the <c>luaactors.vm</c> defaults.</summary>
internal sealed record VmRunLimits(int TimeoutMs, long MemoryBytes, long OutputCap, int InboxCapacity)
{
    public static VmRunLimits Of(VmSpec spec, VmSettings settings, SizeLimits sizeLimits)
    {
        var limits = spec.Limits ?? VmLimits.Default;
        return new VmRunLimits(
            limits.TimeoutMs ?? (int)settings.DefaultTimeout.TotalMilliseconds,
            limits.MemoryMb is { } mb ? mb * (1L << 20) : settings.MemoryLimitBytes,
            // luaactors.limits.max-output-size is the ceiling of every VM's output cap.
            Math.Min(limits.OutputCapBytes ?? settings.OutputCapBytes, sizeLimits.MaxOutputSize),
            limits.InboxCapacity ?? settings.InboxCapacity);
    }

    /// <summary>An Execute's memory limit in KiB: its own, never above the VM's; 0 for "the VM's".</summary>
    public long ExecuteMemoryKb(int? memoryMb) => memoryMb is { } mb ? Math.Min(mb * 1024L, MemoryBytes / 1024) : 0;
}
