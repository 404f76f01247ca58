using System.Net;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using LuaActors.Api;
using LuaActors.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>
/// Starts one cluster node as a Generic Host application: Kestrel with the HTTP API, and the
/// actor system through Akka.Hosting (<c>AddAkka("luaactors", b =&gt; b.WithRemoting(…).WithClustering(…).WithLuaActors())</c>),
/// the same wiring embedders use; Akka's log goes through Microsoft.Extensions.Logging to stderr.
/// </summary>
internal static class NodeHost
{
    /// <summary>
    /// Starts a node and returns once its HTTP API listens (the node may still be joining).
    /// <paramref name="environment"/> gives the <c>LUAACTORS_*</c> variables (none when null).
    /// Throws <see cref="NodeOptionsException"/> for options that cannot work and
    /// <see cref="NodeStartException"/> when the node cannot start.
    /// </summary>
    public static async Task<RunningNode> StartAsync(
        NodeOptions options, Func<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var settings = NodeSettings.Resolve(options, environment ?? (_ => null));
        if (!settings.Http.IsLoopback && settings.Token is null)
        {
            throw new NodeOptionsException(
                $"the HTTP API would listen on {settings.Http.Address}, which is not loopback: give it a token " +
                "(--token TOKEN or LUAACTORS_TOKEN), or listen on 127.0.0.1");
        }

        ListenPortsCheck.Validate(settings);

        // Before anything starts: a node whose database cannot be reached refuses, in one line.
        LuaActors.Persistence.PersistenceSettings persistence;
        try
        {
            persistence = LuaActors.Persistence.PersistenceSettings.From(settings.Hocon.WithFallback(LuaActorsConfig.Default));
        }
        catch (ConfigurationException e)
        {
            throw new NodeOptionsException(e.Message);
        }

        if (await LuaActors.Persistence.DatabaseProbe.ProblemAsync(persistence, TimeSpan.FromSeconds(10), starting: true, cancellationToken) is { } storage)
        {
            throw new NodeStartException("cannot start: persistence: " + storage, new LuaActors.Persistence.StorageUnavailableException(storage));
        }

        var app = Build(settings, options.Errors);
        if (RemotingExposure.Warning(settings) is { } warning)
        {
            LogLineWriter.For(options.Errors, app.Services.GetRequiredService<ILoggerFactory>(), LogLevel.Warning).WriteLine(warning);
        }

        try
        {
            await app.StartLuaActorsHostAsync(cancellationToken);
        }
        catch (ConfigurationException e)
        {
            throw new NodeOptionsException(e.Message);
        }
        catch (IOException e)
        {
            // Kestrel's bind (the actor system, created first, has bound its port by then).
            throw new NodeStartException($"the HTTP API cannot listen on {settings.Http.Address}:{settings.Http.Port}: {Innermost(e).Message}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NodeStartException(
                $"cannot start the cluster node on {settings.Hostname}:{settings.Port}: {Innermost(e).Message}", e);
        }

        var system = app.Services.GetRequiredService<ActorSystem>();
        var cluster = Akka.Cluster.Cluster.Get(system);
        options.Output.WriteLine($"node: {cluster.SelfAddress}");
        system.ActorOf(ClusterEventLogger.Props(options.Output), "cluster-event-logger");
        if (settings.Discovery.Method != DiscoveryMethod.None)
        {
            var discovery = settings.Discovery;
            try
            {
                await ManagementEndpoint.StartBootstrapAsync(system);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
                throw new NodeStartException($"cannot start {discovery.MethodName} discovery: {Innermost(e).Message}", e);
            }

            options.Output.WriteLine($"seeds: {discovery.MethodName} discovery of '{discovery.Service}' ({discovery.RequiredContactPoints} nodes to form a new cluster), " +
                $"management endpoint {settings.Hostname}:{discovery.ManagementPort}");
        }
        else if (settings.Seeds.Count == 0)
        {
            // No seeds: this node is a cluster of its own (its address is known only now, with port 0).
            options.Output.WriteLine("seeds: none, this node is its own seed");
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            options.Output.WriteLine($"seeds: {string.Join(", ", settings.Seeds)}");
        }

        var url = BoundUrl(app, settings.Discovery.Method == DiscoveryMethod.None ? null : settings.Discovery.ManagementPort);
        options.Output.WriteLine($"http: {url}");
        options.Output.WriteLine("capacity: " + LuaActors.Process.VmCapacity.Describe());
        return new RunningNode(app, cluster.SelfAddress, url);
    }

    private static WebApplication Build(NodeSettings settings, TextWriter errors)
    {
        // The slim builder reads no appsettings.json, ASPNETCORE_* variables or command line:
        // the node's own settings are the whole configuration.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "luaactors", Args = [] });
        builder.Configuration.Sources.Clear();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = HttpBodyLimit.For(SizeLimits.From(settings.Hocon.WithFallback(LuaActorsConfig.Default)));
            kestrel.Listen(settings.Http.Address, settings.Http.Port);
            if (settings.Discovery.Method != DiscoveryMethod.None)
            {
                ManagementEndpoint.Listen(kestrel, settings.Hostname, settings.Discovery.ManagementPort);
            }
        });

        // Logs on stderr (stdout carries the node's own lines), text or JSON (NodeLogging).
        builder.Logging.AddNodeLogging(settings.LogFormat, settings.NodeLogLevel, settings.LogLevel);

        // Signals belong to `luaactors node` (NodeCommandLine), and to the test host when a node
        // runs in a test: the host itself handles none.
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = HttpDrain);
        builder.Services.AddSingleton(services => new HttpErrorLog(LogLineWriter.For(errors, services.GetRequiredService<ILoggerFactory>(), LogLevel.Error)));
        builder.Services.AddAkka(NodeSettings.SystemName, akka =>
        {
            // hocon/node.conf, the config file and the test's HOCON: cluster tuning, log level, VM settings.
            akka.AddHocon(settings.Hocon, HoconAddMode.Prepend)
                .ConfigureLoggers(loggers =>
                {
                    loggers.LogLevel = settings.LogLevel;
                    loggers.ClearLoggers();
                    loggers.AddLogger<AkkaLogBridge>();
                })
                .WithRemoting(new RemoteOptions { HostName = settings.Hostname, Port = settings.Port })
                .WithClustering(new ClusterOptions { SeedNodes = settings.Seeds.Count == 0 ? null : [.. settings.Seeds] })
                .WithSeedDiscovery(settings.Discovery, settings.Hostname)
                .WithLuaActors()
                .WithNodeObservers();
        });
        builder.Services.AddVmManager();
        builder.Services.AddLuaActorsHttpApi();
        builder.Services.AddLuaActorsTelemetry(settings.Hocon.WithFallback(LuaActorsConfig.Default));

        var app = builder.Build();
        // Peers' seed probes (about one a second each) are answered before the request log.
        if (settings.Discovery.Method != DiscoveryMethod.None)
        {
            ManagementEndpoint.Map(app, settings.Discovery.ManagementPort);
        }

        app.UseRequestLog();
        app.MapLuaActorsHttpApi(settings.Token);
        app.MapLuaActorsMetrics();
        app.MapLuaActorsTop();
        return app;
    }

    /// <summary>How long requests in flight may finish when the node stops, before they are cut off.</summary>
    private static readonly TimeSpan HttpDrain = TimeSpan.FromSeconds(3);

    private static Uri BoundUrl(WebApplication web, int? managementPort)
    {
        var bound = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                .FirstOrDefault(a => new Uri(a).Port != managementPort)
            ?? throw new InvalidOperationException("the HTTP server reports no address");
        var uri = new Uri(bound);
        return HttpEndpoint.ClientUrl(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
