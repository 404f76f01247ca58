using System.Globalization;
using System.Text.Json;
using LuaActors.Api;

namespace LuaActors.TestKit;

/// <summary>
/// Compares Lua values in the JSON the VM encodes them in (docs/protocol.md §7), with .NET
/// expectations encoded the way <see cref="LuaValueJson.Encode"/> sends values to a VM:
/// <list type="bullet">
/// <item>an integral .NET number matches a Lua integer only, a <c>double</c>/<c>float</c>/<c>decimal</c>
/// a Lua float only (<c>4</c> is not <c>4.0</c>: the API keeps them apart, and so does <c>math.type</c>);</item>
/// <item>strings ordinal; <c>null</c> is <c>nil</c>; <c>byte[]</c> a string with those bytes;</item>
/// <item>sequences are Lua arrays (<c>{1, 2}</c>), dictionaries and other objects tables with those keys,
/// in any order; an empty sequence matches an empty table;</item>
/// <item>a <see cref="JsonElement"/> or JSON node is taken as the encoded value itself.</item>
/// </list>
/// </summary>
public static class LuaValues
{
    /// <summary>The JSON of <paramref name="expected"/> as a Lua value.</summary>
    public static JsonElement ToJson(object? expected)
    {
        using var document = JsonDocument.Parse(LuaValueJson.Encode(expected));
        return document.RootElement.Clone();
    }

    /// <summary>Whether the Lua value <paramref name="actual"/> equals <paramref name="expected"/> (rules above).</summary>
    public static bool AreEqual(object? expected, JsonElement actual) => AreEqual(ToJson(expected), actual);

    /// <summary>Whether two encoded Lua values are equal (rules above).</summary>
    public static bool AreEqual(JsonElement expected, JsonElement actual)
    {
        if (IsEmptyTable(expected) && IsEmptyTable(actual))
        {
            return true;
        }

        if (expected.ValueKind != actual.ValueKind)
        {
            return false;
        }

        return expected.ValueKind switch
        {
            JsonValueKind.Number => NumbersEqual(expected, actual),
            JsonValueKind.String => string.Equals(expected.GetString(), actual.GetString(), StringComparison.Ordinal),
            JsonValueKind.Array => expected.GetArrayLength() == actual.GetArrayLength()
                && expected.EnumerateArray().Zip(actual.EnumerateArray()).All(pair => AreEqual(pair.Item1, pair.Item2)),
            JsonValueKind.Object => ObjectsEqual(expected, actual),
            // null, true, false, and an undefined (absent) value.
            _ => true,
        };
    }

    /// <summary>
    /// A value as a test failure shows it: its JSON and its Lua type, e.g. <c>4 (integer)</c>,
    /// <c>4.0 (float)</c>, <c>"hi" (string)</c>, <c>[1,2] (table)</c>.
    /// </summary>
    public static string Describe(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return "no value";
        }

        var text = value.GetRawText();
        if (text.Length > 500)
        {
            text = text[..500] + "…";
        }

        return $"{text} ({LuaType(value)})";
    }

    /// <summary>The Lua type of an encoded value, with integers and floats apart (as <c>math.type</c>).</summary>
    public static string LuaType(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "nil",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsInteger(value) ? "integer" : "float",
        JsonValueKind.Array => "table",
        JsonValueKind.Object when value.TryGetProperty("$type", out var type) && type.ValueKind == JsonValueKind.String
            && value.EnumerateObject().Count() <= 2 => type.GetString() switch
            {
                "bytes" => "string",
                "float" => "float",
                var other => other!,
            },
        _ => "table",
    };

    private static bool IsInteger(JsonElement number) => number.GetRawText().AsSpan().IndexOfAny('.', 'e', 'E') < 0;

    private static bool NumbersEqual(JsonElement expected, JsonElement actual)
    {
        if (IsInteger(expected) != IsInteger(actual))
        {
            return false;
        }

        return IsInteger(expected)
            ? decimal.Parse(expected.GetRawText(), CultureInfo.InvariantCulture) == decimal.Parse(actual.GetRawText(), CultureInfo.InvariantCulture)
            : expected.GetDouble() == actual.GetDouble();
    }

    private static bool ObjectsEqual(JsonElement expected, JsonElement actual)
    {
        // Names may repeat (docs/protocol.md §7): match each expected entry with an unused actual one.
        var left = actual.EnumerateObject().ToList();
        foreach (var entry in expected.EnumerateObject())
        {
            var match = left.FindIndex(candidate =>
                string.Equals(candidate.Name, entry.Name, StringComparison.Ordinal) && AreEqual(entry.Value, candidate.Value));
            if (match < 0)
            {
                return false;
            }

            left.RemoveAt(match);
        }

        return left.Count == 0;
    }

    private static bool IsEmptyTable(JsonElement value) =>
        (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0)
        || (value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any());
}
