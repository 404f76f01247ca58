using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Messages;

namespace LuaActors.Storage;

/// <summary>The <c>luaactors.storage</c> section (docs/storage.md), read once per actor system.</summary>
/// <param name="Limits">What a VM may store when its spec names no storage limits.</param>
/// <param name="VmMaximum">
/// The most a VM's spec may ask for (<c>vm-maximum</c>; <see cref="VmStorageLimits"/>); its key size
/// is <see cref="Limits"/>' (a spec cannot change it).
/// </param>
/// <param name="JournalPluginId">Empty: Akka's default journal (<c>akka.persistence.journal.plugin</c>).</param>
/// <param name="SnapshotPluginId">Empty: Akka's default snapshot store.</param>
public sealed record StorageSettings(
    StorageLimits Limits,
    int SnapshotEvery,
    string JournalPluginId,
    string SnapshotPluginId,
    StorageLimits VmMaximum)
{
    private static readonly ConditionalWeakTable<ActorSystem, StorageSettings> BySystem = new();

    /// <summary>The settings of <paramref name="system"/>'s config, with the library's defaults under it.</summary>
    public static StorageSettings Of(ActorSystem system) =>
        BySystem.GetValue(system, s => From(s.Settings.Config.WithFallback(Configuration.LuaActorsConfig.Default)));

    public static StorageSettings From(Config config)
    {
        var section = config.GetConfig("luaactors.storage")
            ?? throw new ConfigurationException("Missing luaactors.storage section (is hocon/luaactors.conf the fallback?).");
        var limits = new StorageLimits(
            Size(section, "max-key-size"),
            Size(section, "max-value-size"),
            section.GetInt("max-keys"),
            Size(section, "max-total-size"));
        var maximum = section.GetConfig("vm-maximum") is { } ceiling && !ceiling.IsEmpty
            ? new StorageLimits(
                limits.MaxKeyBytes,
                Size(ceiling, "max-value-size", "vm-maximum."),
                ceiling.GetInt("max-keys"),
                Size(ceiling, "max-total-size", "vm-maximum."))
            : limits;
        var settings = new StorageSettings(
            limits,
            section.GetInt("snapshot-every"),
            section.GetString("journal-plugin") ?? "",
            section.GetString("snapshot-plugin") ?? "",
            maximum);
        if (limits.MaxKeyBytes <= 0 || limits.MaxValueBytes <= 0 || limits.MaxKeys <= 0
            || limits.MaxTotalBytes <= 0 || settings.SnapshotEvery <= 0
            || maximum.MaxValueBytes <= 0 || maximum.MaxKeys <= 0 || maximum.MaxTotalBytes <= 0)
        {
            throw new ConfigurationException("luaactors.storage: every limit (vm-maximum's too) and snapshot-every must be positive");
        }

        // The defaults are what a VM gets without asking: they must be something it could ask for.
        if (limits.MaxValueBytes > maximum.MaxValueBytes || limits.MaxKeys > maximum.MaxKeys || limits.MaxTotalBytes > maximum.MaxTotalBytes)
        {
            throw new ConfigurationException(
                "luaactors.storage: max-value-size, max-keys and max-total-size must not exceed vm-maximum's " +
                $"(got {limits.MaxValueBytes}/{maximum.MaxValueBytes} bytes, {limits.MaxKeys}/{maximum.MaxKeys} keys, " +
                $"{limits.MaxTotalBytes}/{maximum.MaxTotalBytes} bytes)");
        }

        return settings;
    }

    /// <summary>
    /// What is wrong with the storage limits a spec asks for (not positive, or over
    /// <see cref="VmMaximum"/>), or null when they may be granted. Checked once, at the create.
    /// </summary>
    public string? Problem(VmStorageLimits? requested) => requested switch
    {
        null => null,
        { MaxValueBytes: <= 0 } => $"Storage.MaxValueBytes must be positive (got {requested.MaxValueBytes})",
        { MaxKeys: <= 0 } => $"Storage.MaxKeys must be positive (got {requested.MaxKeys})",
        { MaxTotalBytes: <= 0 } => $"Storage.MaxTotalBytes must be positive (got {requested.MaxTotalBytes})",
        { MaxValueBytes: { } v } when v > VmMaximum.MaxValueBytes =>
            $"Storage.MaxValueBytes {v} is over this node's luaactors.storage.vm-maximum.max-value-size ({VmMaximum.MaxValueBytes} bytes)",
        { MaxKeys: { } k } when k > VmMaximum.MaxKeys =>
            $"Storage.MaxKeys {k} is over this node's luaactors.storage.vm-maximum.max-keys ({VmMaximum.MaxKeys})",
        { MaxTotalBytes: { } t } when t > VmMaximum.MaxTotalBytes =>
            $"Storage.MaxTotalBytes {t} is over this node's luaactors.storage.vm-maximum.max-total-size ({VmMaximum.MaxTotalBytes} bytes)",
        _ => null,
    };

    /// <summary>
    /// The limits a VM's storage runs with: its spec's where given, else the defaults; never above
    /// <see cref="VmMaximum"/> (a node whose maximum was lowered since the create holds the VM to it).
    /// </summary>
    public StorageLimits LimitsFor(VmStorageLimits? requested) => requested is null
        ? Limits
        : Limits with
        {
            MaxValueBytes = Math.Min(requested.MaxValueBytes ?? Limits.MaxValueBytes, VmMaximum.MaxValueBytes),
            MaxKeys = Math.Min(requested.MaxKeys ?? Limits.MaxKeys, VmMaximum.MaxKeys),
            MaxTotalBytes = Math.Min(requested.MaxTotalBytes ?? Limits.MaxTotalBytes, VmMaximum.MaxTotalBytes),
        };

    /// <summary>These settings with the limits of one VM (<see cref="LimitsFor"/>), for its storage actor.</summary>
    public StorageSettings ForVm(VmStorageLimits? requested) =>
        requested is null ? this : this with { Limits = LimitsFor(requested) };

    private static long Size(Config config, string key, string prefix = "") =>
        config.GetByteSize(key) ?? throw new ConfigurationException($"luaactors.storage.{prefix}{key} must be a size such as 64KiB.");
}

/// <summary>What one VM may store; a write past any of them is refused whole (storage-limit).</summary>
/// <param name="MaxKeyBytes">UTF-8 bytes of one key.</param>
/// <param name="MaxValueBytes">Bytes of one value's JSON encoding (docs/protocol.md §7).</param>
/// <param name="MaxKeys">Keys stored at once.</param>
/// <param name="MaxTotalBytes">Sum over the stored keys of key bytes plus value bytes.</param>
public sealed record StorageLimits(long MaxKeyBytes, long MaxValueBytes, int MaxKeys, long MaxTotalBytes);
