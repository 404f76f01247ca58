using System.Diagnostics;
using System.Net;
using System.Net.Http;
using LuaActors.Host;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LuaActors.UnitTests;

/// <summary>
/// The node's logging does not make ASP.NET Core start an Activity (and a log scope) for every
/// request: that per-request work is what its hosting layer does while its diagnostics category
/// is enabled, and it cost the execute path CPU on every call. A tracer that listens still gets one.
/// </summary>
public sealed class HttpRequestDiagnosticsTests
{
    [Fact]
    public async Task A_request_runs_without_an_activity_when_nothing_traces()
    {
        await using var app = await StartAsync();
        Assert.Equal("none", await GetAsync(app));
    }

    [Fact]
    public async Task A_listening_tracer_still_gets_the_request_activity()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = await StartAsync();
        Assert.Equal("Microsoft.AspNetCore.Hosting.HttpRequestIn", await GetAsync(app));
    }

    private static async Task<WebApplication> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "diagnostics-test", Args = [] });
        builder.Configuration.Sources.Clear();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // The node's own logging, at its default levels (the request log at Information).
        builder.Logging.AddNodeLogging(LogFormat.Text, LogLevel.Information, Akka.Event.LogLevel.InfoLevel);
        var app = builder.Build();
        app.MapGet("/", () => Activity.Current?.OperationName ?? "none");
        await app.StartAsync();
        return app;
    }

    private static async Task<string> GetAsync(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient();
        return await client.GetStringAsync(address);
    }
}
