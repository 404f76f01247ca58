using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace LuaActors.Host;

/// <summary>How the node writes its log on stderr: readable lines, or one JSON object per line.</summary>
internal enum LogFormat
{
    Text,
    Json,
}

/// <summary>
/// The node's logging (docs/operations.md, "Logs"): everything through Microsoft.Extensions.Logging
/// to stderr (stdout carries the node's own lines). Akka's log comes through Akka.Hosting's bridge
/// at <c>akka.loglevel</c>; the node's own events (<see cref="Category"/>: HTTP requests, VM
/// lifecycle, internal errors) at <c>luaactors.node.log-level</c>; ASP.NET Core's at Warning.
/// </summary>
internal static class NodeLogging
{
    /// <summary>The prefix of the node's own log categories.</summary>
    public const string Category = "LuaActors";

    /// <summary>ASP.NET Core's per-request diagnostics (request starting/finished, startup errors).</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Parses a format as given by <paramref name="source"/> (a flag, a variable, the config).</summary>
    /// <exception cref="NodeOptionsException">Neither text nor json.</exception>
    public static LogFormat ParseFormat(string value, string source) => value.Trim().ToLowerInvariant() switch
    {
        "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => throw new NodeOptionsException($"{source} must be text or json (got '{value}')"),
    };

    /// <summary>Parses <c>luaactors.node.log-level</c> (Akka's names: DEBUG, INFO, WARNING, ERROR, OFF).</summary>
    public static LogLevel ParseLevel(string value) => value.Trim().ToUpperInvariant() switch
    {
        "DEBUG" => LogLevel.Debug,
        "INFO" => LogLevel.Information,
        "WARNING" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "OFF" => LogLevel.None,
        _ => throw new NodeOptionsException($"luaactors.node.log-level must be DEBUG, INFO, WARNING, ERROR or OFF (got '{value}')"),
    };

    public static ILoggingBuilder AddNodeLogging(this ILoggingBuilder logging, LogFormat format, LogLevel nodeLevel, Akka.Event.LogLevel akkaLevel)
    {
        logging.ClearProviders();
        if (format == LogFormat.Json)
        {
            // One object per line: timestamp, level, category, event id, message, and the
            // event's named properties under "State" (VmId, Reason, Status, …).
            logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Warning);
        // ASP.NET Core starts an Activity and a log scope for every request whenever this category
        // is enabled at any level (HostingApplicationDiagnostics.BeginRequest), only to correlate its
        // own per-request lines, which are below Warning anyway: the node's request log is
        // RequestLog's. Off, a request costs neither unless a tracer listens (OTLP tracing).
        logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        logging.AddFilter("Akka", MelLevel(akkaLevel));
        logging.AddFilter(Category, nodeLevel);
        return logging;
    }

    private static LogLevel MelLevel(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
        Akka.Event.LogLevel.ErrorLevel => LogLevel.Error,
        _ => LogLevel.Warning,
    };
}
