namespace LuaActors.Messages;

/// <summary>
/// Per-VM resource limits. A null field means "the HOCON default"
/// (<c>luaactors.vm.default-timeout</c>, <c>memory-limit</c>, <c>output-cap</c>,
/// <c>messaging.inbox-capacity</c>; for <see cref="Storage"/>, <c>luaactors.storage</c>).
/// </summary>
public sealed record VmLimits(
    int? TimeoutMs = null, int? MemoryMb = null, int? OutputCapBytes = null, int? InboxCapacity = null, VmStorageLimits? Storage = null)
{
    public static VmLimits Default { get; } = new();
}

/// <summary>
/// Everything needed to (re)build a VM anywhere, with no message from a user: its type,
/// the type's config entries, its limits, the Lua code run after every (re)start, and whether
/// its Lua code may open sockets (inside the network rule of <c>luaactors.vm.networking</c>).
/// </summary>
public sealed record VmSpec(
    string VmId,
    string Type,
    IReadOnlyDictionary<string, string> Config,
    VmLimits Limits,
    string? InitScript = null,
    bool Networking = false) : ILuaActorsMessage
{
    public static VmSpec Basic(string vmId, string? initScript = null) =>
        new(vmId, "basic", new Dictionary<string, string>(), VmLimits.Default, initScript);
}
