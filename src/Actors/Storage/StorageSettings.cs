using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;

namespace LuaActors.Storage;

/// <summary>The <c>luaactors.storage</c> section (docs/storage.md), read once per actor system.</summary>
/// <param name="JournalPluginId">Empty: Akka's default journal (<c>akka.persistence.journal.plugin</c>).</param>
/// <param name="SnapshotPluginId">Empty: Akka's default snapshot store.</param>
public sealed record StorageSettings(
    StorageLimits Limits,
    int SnapshotEvery,
    string JournalPluginId,
    string SnapshotPluginId)
{
    private static readonly ConditionalWeakTable<ActorSystem, StorageSettings> BySystem = new();

    /// <summary>The settings of <paramref name="system"/>'s config, with the library's defaults under it.</summary>
    public static StorageSettings Of(ActorSystem system) =>
        BySystem.GetValue(system, s => From(s.Settings.Config.WithFallback(Configuration.LuaActorsConfig.Default)));

    public static StorageSettings From(Config config)
    {
        var section = config.GetConfig("luaactors.storage")
            ?? throw new ConfigurationException("Missing luaactors.storage section (is hocon/luaactors.conf the fallback?).");
        var settings = new StorageSettings(
            new StorageLimits(
                Size(section, "max-key-size"),
                Size(section, "max-value-size"),
                section.GetInt("max-keys"),
                Size(section, "max-total-size")),
            section.GetInt("snapshot-every"),
            section.GetString("journal-plugin") ?? "",
            section.GetString("snapshot-plugin") ?? "");
        if (settings.Limits.MaxKeyBytes <= 0 || settings.Limits.MaxValueBytes <= 0 || settings.Limits.MaxKeys <= 0
            || settings.Limits.MaxTotalBytes <= 0 || settings.SnapshotEvery <= 0)
        {
            throw new ConfigurationException("luaactors.storage: every limit and snapshot-every must be positive");
        }

        return settings;
    }

    private static long Size(Config config, string key) =>
        config.GetByteSize(key) ?? throw new ConfigurationException($"luaactors.storage.{key} must be a size such as 64KiB.");
}

/// <summary>What one VM may store; a write past any of them is refused whole (storage-limit).</summary>
/// <param name="MaxKeyBytes">UTF-8 bytes of one key.</param>
/// <param name="MaxValueBytes">Bytes of one value's JSON encoding (docs/protocol.md §7).</param>
/// <param name="MaxKeys">Keys stored at once.</param>
/// <param name="MaxTotalBytes">Sum over the stored keys of key bytes plus value bytes.</param>
public sealed record StorageLimits(long MaxKeyBytes, long MaxValueBytes, int MaxKeys, long MaxTotalBytes);
