using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>
/// One log event per HTTP request at Information (docs/operations.md, "Logs"): method, path,
/// status, duration and the VM it named. Costs a level check per request when Information is off
/// for <see cref="Category"/> (luaactors.node.log-level WARNING).
/// </summary>
internal static partial class RequestLog
{
    public const string Category = NodeLogging.Category + ".Http";

    /// <summary>Wraps everything after it (the token check included, so refusals are logged too).</summary>
    public static WebApplication UseRequestLog(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        app.Use(async (context, next) =>
        {
            if (!logger.IsEnabled(LogLevel.Information))
            {
                await next(context);
                return;
            }

            var started = Stopwatch.GetTimestamp();
            var status = StatusCodes.Status500InternalServerError;
            try
            {
                await next(context);
                status = context.Response.StatusCode;
            }
            finally
            {
                // Route values are set by routing, inside next: read after it.
                var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var method = context.Request.Method;
                var path = context.Request.Path.Value ?? "";
                // A create names its VM in the body; its answer's Location (/vms/ID) names it too.
                var vmId = context.GetRouteValue("id") as string
                    ?? (status == StatusCodes.Status201Created && context.Response.Headers.Location.ToString() is ['/', 'v', 'm', 's', '/', .. var id] ? Uri.UnescapeDataString(id) : null);
                Request(logger, method, path, status, milliseconds, vmId);
            }
        });
        return app;
    }

    [LoggerMessage(EventId = 1, EventName = "HttpRequest", Level = LogLevel.Information,
        Message = "{Method} {Path} {Status} {DurationMs:0.###} ms vm={VmId}")]
    private static partial void Request(ILogger logger, string method, string path, int status, double durationMs, string? vmId);
}
