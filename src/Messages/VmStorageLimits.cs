namespace LuaActors.Messages;

/// <summary>
/// What one VM may keep in its durable storage (<c>vm.storage</c>, docs/storage.md "Limits"),
/// part of its spec (<see cref="VmLimits.Storage"/>), so it survives restarts with it. A null
/// field means the node's default (<c>luaactors.storage.max-value-size</c>, <c>max-keys</c>,
/// <c>max-total-size</c>). A create that asks for more than <c>luaactors.storage.vm-maximum</c>
/// allows is refused with <see cref="ErrorKind.InvalidSpec"/>.
/// </summary>
/// <param name="MaxValueBytes">Bytes of one value as encoded (docs/protocol.md §7).</param>
/// <param name="MaxKeys">Keys the VM holds at once.</param>
/// <param name="MaxTotalBytes">Key bytes plus value bytes of all the VM's keys.</param>
public sealed record VmStorageLimits(long? MaxValueBytes = null, int? MaxKeys = null, long? MaxTotalBytes = null);
