using System.Text.Json;
using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>
/// What a chunk returned and printed. Values are JSON as the VM encoded them (docs/protocol.md):
/// integers and floats apart, byte strings and functions as <c>{"$type": …}</c> placeholders.
/// </summary>
public sealed class ExecuteResult
{
    private JsonElement[]? _values;

    public ExecuteResult(Executed executed)
    {
        VmId = executed.VmId;
        Count = executed.Count;
        ValuesJson = executed.ValuesJson;
        Output = executed.Output;
        OutputTruncated = executed.OutputTruncated;
    }

    public string VmId { get; }

    /// <summary>How many values the chunk returned (trailing nils count).</summary>
    public int Count { get; }

    /// <summary>The values as one JSON array.</summary>
    public string ValuesJson { get; }

    /// <summary>What <c>print</c> wrote while the chunk ran.</summary>
    public string Output { get; }

    public bool OutputTruncated { get; }

    /// <summary>The values, one JSON element each.</summary>
    public IReadOnlyList<JsonElement> Values => _values ??= ParseValues();

    /// <summary>The first value (JSON null when there is none).</summary>
    public JsonElement Value => Count > 0 ? Values[0] : default;

    /// <summary>Value <paramref name="index"/> converted to <typeparamref name="T"/> (double, long, string, bool, arrays, records…).</summary>
    public T? Get<T>(int index = 0)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"the chunk returned {Count} values");
        }

        try
        {
            return Values[index].Deserialize<T>();
        }
        catch (JsonException e)
        {
            throw new InvalidCastException($"value {index} ({Values[index].GetRawText()}) is not a {typeof(T).Name}", e);
        }
    }

    /// <summary>The raw bytes of a string value, whether it was valid UTF-8 or not.</summary>
    public byte[] GetBytes(int index = 0)
    {
        var value = Values[index];
        return value.ValueKind switch
        {
            JsonValueKind.String => System.Text.Encoding.UTF8.GetBytes(value.GetString()!),
            JsonValueKind.Object when value.TryGetProperty("$type", out var type) && type.GetString() == "bytes"
                => Convert.FromBase64String(value.GetProperty("base64").GetString()!),
            _ => throw new InvalidCastException($"value {index} ({value.GetRawText()}) is not a string"),
        };
    }

    /// <summary>Whether value <paramref name="index"/> is a Lua integer (not a float).</summary>
    public bool IsInteger(int index = 0) =>
        Values[index].ValueKind == JsonValueKind.Number && Values[index].GetRawText().IndexOfAny(['.', 'e', 'E']) < 0;

    /// <summary>
    /// The values as <c>lua -i</c> and <c>luaactors vm exec</c> show them: <c>4.0</c> for one
    /// value, strings bare, several tab-separated, "" for none (<see cref="ValuesJson"/> has the JSON array).
    /// </summary>
    public override string ToString() => VmSession.RenderValues(ValuesJson);

    private JsonElement[] ParseValues()
    {
        using var document = JsonDocument.Parse(ValuesJson);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
