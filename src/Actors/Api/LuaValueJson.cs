using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LuaActors.Api;

/// <summary>
/// .NET values to the VM's JSON encoding (docs/protocol.md §7), which the VM decodes back to
/// Lua values: the inverse of how results come out.
/// </summary>
public static class LuaValueJson
{
    /// <summary>
    /// <list type="bullet">
    /// <item><c>null</c> → <c>nil</c>; <c>bool</c>, <c>string</c> as themselves.</item>
    /// <item>Integral types → Lua integers; <c>float</c>, <c>double</c>, <c>decimal</c> → Lua floats
    /// (also whole ones: <c>2.0</c> stays a float), NaN and infinities included.</item>
    /// <item><c>byte[]</c> → a Lua string with exactly those bytes.</item>
    /// <item>Dictionaries → tables keyed by the keys' text (keys that are canonical integers
    /// such as "1" become integer keys); other sequences → arrays (<c>t[1]</c>, <c>t[2]</c>, …).</item>
    /// <item><see cref="JsonElement"/>/<see cref="JsonNode"/> → their JSON as written; any other
    /// object → its System.Text.Json serialization (whole numbers in it become integers).</item>
    /// </list>
    /// </summary>
    public static string Encode(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value, depth: 0);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        // The VM's decoder accepts nesting up to 200.
        if (depth > 190)
        {
            throw new ArgumentException("the value nests too deeply for a Lua message (or refers to itself)", nameof(value));
        }

        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case byte[] bytes:
                writer.WriteStartObject();
                writer.WriteString("$type", "bytes");
                writer.WriteString("base64", Convert.ToBase64String(bytes));
                writer.WriteEndObject();
                break;
            case sbyte or byte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong big when big <= long.MaxValue:
                writer.WriteNumberValue((long)big);
                break;
            case ulong big:
                WriteFloat(writer, big);
                break;
            case float f:
                WriteFloat(writer, f);
                break;
            case double d:
                WriteFloat(writer, d);
                break;
            case decimal m:
                WriteFloat(writer, (double)m);
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case JsonNode node:
                node.WriteTo(writer);
                break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    Write(writer, entry.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (var item in sequence)
                {
                    Write(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                JsonSerializer.SerializeToElement(value, value.GetType()).WriteTo(writer);
                break;
        }
    }

    /// <summary>A float always shows it is one (".0" or an exponent), so the VM keeps it a float.</summary>
    private static void WriteFloat(Utf8JsonWriter writer, double value)
    {
        if (!double.IsFinite(value))
        {
            writer.WriteStartObject();
            writer.WriteString("$type", "float");
            writer.WriteString("value", double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf");
            writer.WriteEndObject();
            return;
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        writer.WriteRawValue(text.AsSpan().IndexOfAny('.', 'E', 'e') >= 0 ? text : text + ".0");
    }
}
