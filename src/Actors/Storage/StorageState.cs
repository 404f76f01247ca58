using System.Text;
using LuaActors.Messages;

namespace LuaActors.Storage;

/// <summary>
/// A VM's stored keys and values (values as their JSON text) and the bytes they take. Plain
/// state: the <see cref="StorageActor"/> checks a write against the limits, persists it, then applies it.
/// </summary>
public sealed class StorageState
{
    private readonly Dictionary<string, string> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>Key bytes plus value bytes (UTF-8) of every entry.</summary>
    public long TotalBytes { get; private set; }

    public string? Get(string key) => _entries.GetValueOrDefault(key);

    /// <summary>The keys starting with <paramref name="prefix"/> (all when empty), in ordinal order.</summary>
    public List<string> Keys(string prefix) =>
        _entries.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The entries whose keys start with <paramref name="prefix"/>, in ordinal key order.</summary>
    public IReadOnlyDictionary<string, string> Entries(string prefix)
    {
        var selected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in _entries)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                selected[key] = value;
            }
        }

        return selected;
    }

    public StorageSnapshot Snapshot() => new(new Dictionary<string, string>(_entries, StringComparer.Ordinal));

    public void Restore(StorageSnapshot snapshot)
    {
        Clear();
        foreach (var (key, value) in snapshot.Entries)
        {
            Set(key, value);
        }
    }

    public void Clear()
    {
        _entries.Clear();
        TotalBytes = 0;
    }

    public void Apply(IReadOnlyList<StorageChange> changes)
    {
        foreach (var change in changes)
        {
            if (change.ValueJson is null)
            {
                Delete(change.Key);
            }
            else
            {
                Set(change.Key, change.ValueJson);
            }
        }
    }

    /// <summary>
    /// Why <paramref name="changes"/> may not be applied (a storage-limit message), or null when they
    /// may. A VM over its key count or total size (its limits were lowered since it wrote) may still
    /// write what does not make it worse, so it can delete its way back under them.
    /// </summary>
    public string? Check(IReadOnlyList<StorageChange> changes, StorageLimits limits)
    {
        var count = _entries.Count;
        var total = TotalBytes;
        // A key written twice counts once: the last change wins, as in Apply.
        var last = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            if (change.Key.Length == 0)
            {
                return "a key must not be empty";
            }

            var keyBytes = Encoding.UTF8.GetByteCount(change.Key);
            if (keyBytes > limits.MaxKeyBytes)
            {
                return $"key '{Show(change.Key)}' is {keyBytes} bytes, over the storage limit max-key-size ({limits.MaxKeyBytes} bytes)";
            }

            if (change.ValueJson is { } json && Encoding.UTF8.GetByteCount(json) is var valueBytes && valueBytes > limits.MaxValueBytes)
            {
                return $"the value of key '{Show(change.Key)}' is {valueBytes} bytes encoded, over the VM's storage limit max-value-size ({limits.MaxValueBytes} bytes)";
            }

            last[change.Key] = change.ValueJson;
        }

        foreach (var (key, json) in last)
        {
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            if (_entries.TryGetValue(key, out var old))
            {
                count--;
                total -= keyBytes + Encoding.UTF8.GetByteCount(old);
            }

            if (json is not null)
            {
                count++;
                total += keyBytes + Encoding.UTF8.GetByteCount(json);
            }
        }

        if (count > limits.MaxKeys && count > _entries.Count)
        {
            return $"{count} keys, over the VM's storage limit max-keys ({limits.MaxKeys}); nothing was written";
        }

        return total > limits.MaxTotalBytes && total > TotalBytes
            ? $"{total} bytes stored, over the VM's storage limit max-total-size ({limits.MaxTotalBytes} bytes); nothing was written"
            : null;
    }

    private void Set(string key, string json)
    {
        Delete(key);
        _entries[key] = json;
        TotalBytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(json);
    }

    private void Delete(string key)
    {
        if (_entries.Remove(key, out var old))
        {
            TotalBytes -= Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(old);
        }
    }

    private static string Show(string key) => key.Length <= 40 ? key : key[..40] + "…";
}
