using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LuaActors.Bench.Shared;

/// <summary>
/// The HTTP floor: .NET's HTTP server alone, in the node's process model (a Release .NET process of
/// its own, workstation GC, the slim Generic Host builder, Kestrel on loopback, minimal-API routing),
/// answering <c>POST /vms/{id}/execute</c> with the constant body a node sends for <c>return 1+1</c>.
/// No actor, no VM, no JSON parsing: what is left of the node's p50 above this is LuaActors' own.
/// It runs as this program started again with <see cref="Mode"/> (not a scenario).
/// </summary>
internal static partial class Peers
{
    /// <summary>The hidden first argument that makes this program the floor server: <c>kestrel-floor PORT</c>.</summary>
    public const string KestrelFloorMode = "kestrel-floor";

    // What a node answers to {"code":"return 1+1"} (ExecutedJson in src/Host), byte for byte.
    private static readonly byte[] FloorBody = """{"ok":true,"count":1,"values":[2],"output":"","outputTruncated":false}"""u8.ToArray();

    /// <summary>Starts the floor server as a tracked child on a free loopback port; returns once it answers.</summary>
    public static async Task<(int Pid, Uri Http)> StartKestrelFloorAsync()
    {
        var self = typeof(Peers).Assembly.Location;
        var http = new Uri($"http://127.0.0.1:{FreePort()}/");
        var pid = Start("dotnet", [self, KestrelFloorMode, http.Port.ToString(CultureInfo.InvariantCulture)]);
        using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (!Children.TryGetValue(pid, out var process) || process.HasExited)
            {
                throw new InvalidOperationException($"the Kestrel floor exited while starting (run it by hand: dotnet {self} {KestrelFloorMode} 5099)");
            }

            try
            {
                using var response = await client.PostAsync("vms/bench-0/execute", new StringContent("{}"));
                if (response.IsSuccessStatusCode)
                {
                    return (pid, http);
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the Kestrel floor did not answer within 60 s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The floor server's main: serves until SIGTERM. Exit code 2 on a bad port.</summary>
    public static async Task<int> RunKestrelFloorAsync(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            await Console.Error.WriteLineAsync($"bench: {KestrelFloorMode} PORT");
            return 2;
        }

        // As the node builds its host (src/Host/Node/NodeHost.cs): slim builder, no configuration
        // sources, no server header, Kestrel's defaults otherwise; no request logging.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "kestrel-floor", Args = [] });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(System.Net.IPAddress.Loopback, port);
        });
        var app = builder.Build();
        // The request body is not parsed (Kestrel still receives it and discards what is unread).
        app.MapPost("/vms/{id}/execute", (HttpContext context) =>
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = FloorBody.Length;
            return response.Body.WriteAsync(FloorBody).AsTask();
        });
        await app.RunAsync();
        return 0;
    }
}
