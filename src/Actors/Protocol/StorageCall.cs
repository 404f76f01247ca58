using System.Text.Json;
using LuaActors.Messages;

namespace LuaActors.Protocol;

/// <summary>The <c>M</c> call ops of <c>vm.storage</c> (docs/protocol.md §11.9).</summary>
public enum StorageOp
{
    /// <summary><c>storage-get</c>: name = key; the answer is the value's JSON, or <c>null</c>.</summary>
    Get,
    /// <summary><c>storage-set</c>: name = key, json = the value; the answer is empty once durable.</summary>
    Set,
    /// <summary><c>storage-delete</c>: name = key; the answer is empty once durable.</summary>
    Delete,
    /// <summary><c>storage-keys</c>: name = prefix; the answer is a JSON array of keys, in byte order.</summary>
    Keys,
    /// <summary><c>storage-commit</c>: json = <c>[[key, value], [key], …]</c> (a one-element entry deletes); one durable write.</summary>
    Commit,
}

/// <summary>'M' with a <c>storage-</c> op: a <c>vm.storage</c> call; answer with one 'A' with this id.</summary>
/// <param name="Key">The key (get, set, delete) or the prefix (keys); empty for commit.</param>
/// <param name="ValueJson">The value (set) or the changes (commit) in the §7 encoding; empty otherwise.</param>
public sealed record StorageCall(uint Id, StorageOp Op, string Key, string ValueJson) : VmFrame(Id);

/// <summary>The wire names of the storage ops and the commit payload.</summary>
public static class StorageCalls
{
    private static readonly (byte[] Name, StorageOp Op)[] Ops =
    [
        ("storage-get"u8.ToArray(), StorageOp.Get),
        ("storage-set"u8.ToArray(), StorageOp.Set),
        ("storage-delete"u8.ToArray(), StorageOp.Delete),
        ("storage-keys"u8.ToArray(), StorageOp.Keys),
        ("storage-commit"u8.ToArray(), StorageOp.Commit),
    ];

    public static bool TryParseOp(ReadOnlySpan<byte> name, out StorageOp op)
    {
        foreach (var (candidate, value) in Ops)
        {
            if (name.SequenceEqual(candidate))
            {
                op = value;
                return true;
            }
        }

        op = default;
        return false;
    }

    /// <summary>The op's name on the wire ("storage-get", …).</summary>
    public static string WireName(this StorageOp op) => "storage-" + op.ToString().ToLowerInvariant();

    /// <summary>
    /// The changes of a commit: <c>[[key, value], [key], …]</c>, or <c>{}</c> (the empty table: no
    /// change). Each value keeps its JSON text as the VM wrote it. Null and a problem when the
    /// payload is not that.
    /// </summary>
    public static IReadOnlyList<StorageChange>? ParseCommit(string json, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && !root.EnumerateObject().Any())
            {
                return [];
            }

            if (root.ValueKind != JsonValueKind.Array)
            {
                problem = "a commit is an array of [key, value] or [key] entries";
                return null;
            }

            var changes = new List<StorageChange>(root.GetArrayLength());
            foreach (var entry in root.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() is not (1 or 2)
                    || entry[0].ValueKind != JsonValueKind.String)
                {
                    problem = "a commit entry is [key, value] or [key], the key a string";
                    return null;
                }

                changes.Add(new StorageChange(entry[0].GetString()!, entry.GetArrayLength() == 2 ? entry[1].GetRawText() : null));
            }

            return changes;
        }
        catch (JsonException e)
        {
            problem = "the commit is not JSON: " + e.Message;
            return null;
        }
    }
}
