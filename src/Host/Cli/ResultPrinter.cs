using System.Text;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>
/// How `eval` and `vm exec` print a chunk's outcome: what it printed first, then one value as
/// itself, several as a JSON array, none as nothing; a Lua error as "kind: message" (and the
/// traceback) on stderr.
/// </summary>
internal static class ResultPrinter
{
    /// <summary>An execute's answer as `vm exec` prints it; whether it succeeded.</summary>
    public static async Task<bool> PrintAsync(ExecuteResponse result)
    {
        if (result is { Ok: false, Error: { } error })
        {
            await PrintLuaErrorAsync(error.Kind, error.Message, error.Traceback, error.Output);
            return false;
        }

        await PrintResultAsync(result.Count ?? 0, result.Values?.Text ?? "[]", result.Output ?? "");
        return true;
    }

    public static async Task PrintResultAsync(int count, string valuesJson, string output)
    {
        await WriteStdoutAsync(output);
        if (ValuesText(count, valuesJson) is { } values)
        {
            await WriteStdoutAsync(values + "\n");
        }
    }

    public static async Task PrintLuaErrorAsync(string kind, string message, string traceback, string output)
    {
        await WriteStdoutAsync(output);
        // Lua's own messages may already start with the kind ("timeout: execution exceeded …").
        await Console.Error.WriteLineAsync(message.StartsWith(kind + ":", StringComparison.Ordinal) ? message : $"{kind}: {message}");
        if (traceback.Length > 0)
        {
            await Console.Error.WriteLineAsync(traceback);
        }
    }

    /// <summary>The values as printed: null for none, the first value's JSON for one, the array for several.</summary>
    public static string? ValuesText(int count, string valuesJson)
    {
        switch (count)
        {
            case 0:
                return null;
            case 1:
                using (var document = JsonDocument.Parse(valuesJson))
                {
                    return document.RootElement[0].GetRawText();
                }

            default:
                return valuesJson;
        }
    }

    /// <summary>Raw UTF-8 on stdout, flushed (the output may be followed by stderr lines).</summary>
    public static async Task WriteStdoutAsync(string text)
    {
        if (text.Length > 0)
        {
            var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(Encoding.UTF8.GetBytes(text));
            await stdout.FlushAsync();
        }
    }
}
