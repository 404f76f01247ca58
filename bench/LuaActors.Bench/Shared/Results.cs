using System.Text;
using System.Text.Json;

namespace LuaActors.Bench.Shared;

/// <summary>
/// The run's figures: one flat JSON object of scenario keys (<c>actors_p50_us</c>, …), plus
/// <c>machine</c>, <c>run</c> and <c>targets</c> objects.
/// </summary>
internal sealed class Results
{
    private readonly List<KeyValuePair<string, object?>> _values = [];
    private readonly List<Target> _targets = [];

    public IReadOnlyList<Target> Targets => _targets;

    /// <summary>Sets <paramref name="key"/> (a number, string, bool or null), replacing an earlier value.</summary>
    public void Set(string key, object? value)
    {
        var index = _values.FindIndex(pair => pair.Key == key);
        if (index >= 0)
        {
            _values[index] = new(key, value);
        }
        else
        {
            _values.Add(new(key, value));
        }
    }

    public object? Get(string key) => _values.FirstOrDefault(pair => pair.Key == key).Value;

    public void AddTarget(Target target)
    {
        _targets.RemoveAll(t => t.Key == target.Key);
        _targets.Add(target);
    }

    public void WriteJson(string path, IReadOnlyDictionary<string, object?> machine, IReadOnlyDictionary<string, object?> run)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            WriteObject(writer, "machine", machine);
            WriteObject(writer, "run", run);
            foreach (var (key, value) in _values)
            {
                writer.WritePropertyName(key);
                WriteValue(writer, value);
            }

            writer.WriteStartObject("targets");
            foreach (var target in _targets)
            {
                writer.WriteStartObject(target.Key);
                writer.WriteString("target", target.Description);
                writer.WritePropertyName("figure");
                WriteValue(writer, target.Figure);
                writer.WriteString("figure_key", target.FigureKey);
                writer.WritePropertyName("limit");
                WriteValue(writer, target.Limit);
                writer.WritePropertyName("met");
                WriteValue(writer, target.Met);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        File.WriteAllText(path, Encoding.UTF8.GetString(stream.ToArray()) + "\n");
    }

    private static void WriteObject(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, object?> values)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WritePropertyName(key);
            WriteValue(writer, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case double d when double.IsNaN(d) || double.IsInfinity(d):
                writer.WriteNullValue();
                break;
            case double d:
                writer.WriteNumberValue(Math.Round(d, 3));
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            default:
                writer.WriteStringValue(value.ToString());
                break;
        }
    }
}

/// <summary>
/// A project target next to the figure that judges it. <see cref="Met"/> is null when the figure
/// is missing (scenario not available or failed).
/// </summary>
internal sealed record Target(string Key, string Description, string FigureKey, double? Figure, double Limit, bool AtMost)
{
    public bool? Met => Figure is { } f && !double.IsNaN(f) ? (AtMost ? f <= Limit : f >= Limit) : null;

    public string Verdict => Met switch
    {
        true => "met",
        false => "MISSED",
        null => "n/a",
    };
}
