using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LuaActors.Host;

// How the API writes and reads JSON (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>A JSON value carried as its text, written and read without re-encoding.</summary>
[JsonConverter(typeof(RawJsonConverter))]
internal sealed record RawJson(string Text)
{
    public override string ToString() => Text;
}

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    // The VM's encoder wrote valid JSON; re-encoding could turn 4.0 into 4 or escape characters.
    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}

internal static class ApiJson
{
    /// <summary>What the node reads and writes: camelCase, unknown or mistyped fields refused.</summary>
    public static readonly JsonSerializerOptions Server = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>What the client reads and writes: like the node's, but tolerant of fields added later.</summary>
    public static readonly JsonSerializerOptions Client = new(Server)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>An enum value as the API spells it: kebab-case (AlreadyExists → already-exists).</summary>
    public static string Name<T>(T value) where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());
}
