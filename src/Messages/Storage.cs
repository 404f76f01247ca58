namespace LuaActors.Messages;

/// <summary>
/// Reads a VM's durable storage (docs/storage.md): every key that starts with
/// <see cref="Prefix"/> (all keys when null or empty), with its value. The reply is
/// <see cref="StorageContents"/>, or <see cref="RequestFailed"/> (<see cref="ErrorKind.NotFound"/>,
/// <see cref="ErrorKind.StorageUnavailable"/>).
/// </summary>
public sealed record GetStorage(string VmId, string? Prefix = null) : IVmCommand;

/// <summary>A VM's stored keys and values; each value in the VM's JSON encoding (docs/protocol.md §7).</summary>
public sealed record StorageContents(string VmId, IReadOnlyDictionary<string, string> Entries) : ILuaActorsMessage;

/// <summary>
/// One key written by <c>vm.storage.set</c> or removed by <c>vm.storage.delete</c>.
/// </summary>
/// <param name="ValueJson">The value in the VM's JSON encoding; null: the key is deleted.</param>
public sealed record StorageChange(string Key, string? ValueJson);

/// <summary>
/// The journal event of one storage write: a set, a delete, or a whole transaction. One event
/// per write makes a transaction atomic: the journal holds all of it or none of it.
/// </summary>
public sealed record StorageChanged(IReadOnlyList<StorageChange> Changes) : ILuaActorsMessage;

/// <summary>A snapshot of a VM's storage: every key with its value JSON.</summary>
public sealed record StorageSnapshot(IReadOnlyDictionary<string, string> Entries) : ILuaActorsMessage;
