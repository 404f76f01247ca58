using System.Text;
using System.Text.Json;
using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>
/// /vms/{id}/storage: an operator's read (and export) of a VM's durable storage (docs/api.md,
/// docs/storage.md): one JSON object, key → value, each value in the VM's encoding
/// (docs/protocol.md §7) exactly as stored.
/// </summary>
internal static class StorageEndpoints
{
    public static void Map(RouteGroupBuilder vms) =>
        vms.MapGet("{id}/storage", GetAsync)
            .Produces<Dictionary<string, JsonElement>>()
            .WithName("GetVmStorage")
            .WithSummary("The VM's durable storage: key → value; ?prefix= keeps the keys that start with it");

    private static async Task<IResult> GetAsync(string id, string? prefix, VmManager manager, CancellationToken cancellationToken)
    {
        var entries = await manager.GetStorageJsonAsync(id, prefix, cancellationToken);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, json) in entries)
            {
                writer.WritePropertyName(key);
                writer.WriteRawValue(json, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return Results.Text(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), "application/json", Encoding.UTF8);
    }
}
