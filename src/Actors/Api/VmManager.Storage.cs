using System.Text.Json;
using LuaActors.Messages;

namespace LuaActors.Api;

public sealed partial class VmManager
{
    /// <summary>
    /// The VM's durable storage (<c>vm.storage</c>, docs/storage.md): every key that starts with
    /// <paramref name="prefix"/> (all keys when null), in ordinal key order, each value in the
    /// VM's JSON encoding (docs/protocol.md §7: integers and floats apart, byte strings as
    /// <c>{"$type":"bytes",…}</c>). A read of what is durable, whatever the VM's process is doing.
    /// </summary>
    /// <exception cref="VmNotFoundException">No VM with that id.</exception>
    /// <exception cref="VmUnavailableException">Kind <see cref="ErrorKind.StorageUnavailable"/>: the journal cannot be read.</exception>
    public async Task<IReadOnlyDictionary<string, JsonElement>> GetStorageAsync(
        string vmId, string? prefix = null, CancellationToken cancellationToken = default)
    {
        var contents = await AskAsync<StorageContents>(new GetStorage(vmId, prefix), _askTimeout, cancellationToken).ConfigureAwait(false);
        var entries = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (key, json) in contents.Entries)
        {
            using var document = JsonDocument.Parse(json);
            entries[key] = document.RootElement.Clone();
        }

        return entries;
    }

    /// <summary>The storage as the VM's actor answers it: each value as its JSON text (the HTTP API writes them as they are).</summary>
    internal async Task<IReadOnlyDictionary<string, string>> GetStorageJsonAsync(
        string vmId, string? prefix, CancellationToken cancellationToken) =>
        (await AskAsync<StorageContents>(new GetStorage(vmId, prefix), _askTimeout, cancellationToken).ConfigureAwait(false)).Entries;
}
