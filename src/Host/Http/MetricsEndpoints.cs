using Akka.Configuration;
using LuaActors.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LuaActors.Host;

/// <summary>
/// The node's telemetry (docs/operations.md, "Metrics" and "Traces"): the <c>LuaActors</c>
/// meter and ASP.NET Core's HTTP server metrics at <c>GET /metrics</c> in Prometheus format;
/// with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces (the <c>LuaActors</c>
/// activity source and the HTTP requests') also go there over OTLP.
/// <para>
/// <c>/metrics</c> sits behind the node's token like the rest of the API: it names VMs and
/// tells their load, and Prometheus sends a bearer token (<c>authorization</c> in a scrape
/// config). Only the health probes are open.
/// </para>
/// </summary>
internal static class MetricsEndpoints
{
    public const string Path = "/metrics";

    /// <summary>ASP.NET Core's meter of <c>http.server.request.duration</c> and <c>http.server.active_requests</c>.</summary>
    private const string AspNetCoreHostingMeter = "Microsoft.AspNetCore.Hosting";

    /// <summary>Kestrel's meter (<c>kestrel.*</c>: connections, queues, TLS handshakes).</summary>
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>Registers the meter providers; <paramref name="config"/> is the node's HOCON (luaactors.metrics).</summary>
    public static IServiceCollection AddLuaActorsTelemetry(this IServiceCollection services, Config config)
    {
        var perVmTop = config.GetInt("luaactors.metrics.per-vm-top");
        LuaActorsMetrics.PerVmTop = perVmTop;
        var otlp = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        var serviceName = Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "luaactors";
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                // ASP.NET Core's HTTP server metrics straight from its meters (http.server.*,
                // kestrel.*): AddAspNetCoreInstrumentation() would add the routing meter's
                // per-request match counter and a middleware around every request (to tag errors),
                // both on the execute path, for nothing docs/operations.md offers.
                metrics.AddMeter(LuaActorsMetrics.MeterName, AspNetCoreHostingMeter, KestrelMeter).AddPrometheusExporter();
                foreach (var instrument in LuaActorsMetrics.PerVmInstruments)
                {
                    // A hard bound on the per-VM series, whatever the exporter keeps of VMs that left the top.
                    metrics.AddView(instrument, new MetricStreamConfiguration { CardinalityLimit = Math.Max(1, 2 * perVmTop) });
                }

                if (!string.IsNullOrWhiteSpace(otlp))
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        Otlp(exporter, otlp, "v1/metrics");
                        if (int.TryParse(Environment.GetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL"), out var ms) && ms > 0)
                        {
                            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = ms;
                        }
                    });
                }
            });
        if (!string.IsNullOrWhiteSpace(otlp))
        {
            builder.WithTracing(tracing => tracing
                .AddSource(LuaActorsTracing.SourceName)
                .AddAspNetCoreInstrumentation(http => http.Filter = context => context.Request.Path != Path)
                .AddOtlpExporter(exporter => Otlp(exporter, otlp, "v1/traces")));
        }

        return services;
    }

    /// <summary>Maps <c>GET /metrics</c> (Prometheus text format, or OpenMetrics when asked).</summary>
    public static WebApplication MapLuaActorsMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(Path);
        return app;
    }

    /// <summary>
    /// The exporter's settings from the standard variables, read here because the node's host
    /// reads no environment into its configuration. With http/protobuf the endpoint is a base
    /// URL and each signal posts to its own path, as the OTLP specification says.
    /// </summary>
    private static void Otlp(OtlpExporterOptions exporter, string endpoint, string signalPath)
    {
        var protocol = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL");
        exporter.Protocol = protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        var baseUri = new Uri(endpoint.Trim());
        exporter.Endpoint = exporter.Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(baseUri.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : baseUri;
        if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_HEADERS") is { Length: > 0 } headers)
        {
            exporter.Headers = headers;
        }
    }
}
