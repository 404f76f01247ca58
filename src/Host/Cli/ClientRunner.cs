using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>What every client command shares: argument errors (exit 2), an unreachable node
/// or an error answer (exit 1), and the readable forms of sizes, durations and addresses.</summary>
internal static class ClientRunner
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs a client command's action: a bad argument found while running it (an unreadable file, a bad LUAACTORS_NODE) exits 2.</summary>
    public static async Task<int> RunAsync(ParseResult result, Func<Task<int>> command)
    {
        var json = CliErrors.JsonRequested(result);
        try
        {
            return await command();
        }
        catch (ArgumentException e)
        {
            return CliErrors.PrintUsage(Console.Error, new UsageProblem(e.Message, result.CommandResult.Command, []), json);
        }
        catch (NodeUnreachableException e)
        {
            return CliErrors.PrintFailure(Console.Error, "unreachable", e.Message, json);
        }
        catch (JsonException e)
        {
            return CliErrors.PrintFailure(Console.Error, "bad-answer", $"the node's answer is not what this client expects: {e.Message}", json);
        }
    }

    /// <summary>A failed answer: "kind: message" on stderr (and, with --json, the body on stdout); exit 1.</summary>
    public static async Task<int> FailAsync(ApiResponse response, bool json)
    {
        if (json)
        {
            await Console.Out.WriteLineAsync(response.Body);
        }

        await Console.Error.WriteLineAsync(response.ErrorText());
        return 1;
    }

    public static string Bytes(long? bytes) => bytes switch
    {
        null => "-",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    public static string Duration(long milliseconds)
    {
        var span = TimeSpan.FromMilliseconds(milliseconds);
        return span.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s")
            : span.TotalHours < 1 ? $"{span.Minutes}m{span.Seconds:00}s"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d{span.Hours:00}h";
    }

    /// <summary>akka.tcp://luaactors@127.0.0.1:4101 → 127.0.0.1:4101 (every node's system is luaactors).</summary>
    public static string ShortNode(string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        return address.Length == 0 ? "-" : at >= 0 ? address[(at + 1)..] : address;
    }
}
