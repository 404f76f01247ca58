using System.Net;
using Akka.Actor;
using Akka.Cluster;
using LuaActors.Api;
using LuaActors.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LuaActors.Host;

/// <summary>
/// Starts one cluster node: the actor system (cluster provider, hocon/node.conf) with the
/// LuaActors manager, the join, the membership printer and the HTTP API.
/// </summary>
internal static class NodeHost
{
    /// <summary>
    /// Starts a node and returns once its HTTP API listens (the node may still be joining).
    /// Throws <see cref="NodeOptionsException"/> for options that cannot work.
    /// </summary>
    public static async Task<RunningNode> StartAsync(NodeOptions options, CancellationToken cancellationToken = default)
    {
        var hocon = NodeConfig.Build(options);
        var config = Akka.Configuration.ConfigurationFactory.ParseString(hocon);
        var endpoint = HttpEndpoint.Parse(options.Http ?? config.GetString("luaactors.node.http"));
        var token = string.IsNullOrEmpty(options.Token) ? null : options.Token;
        if (!endpoint.IsLoopback && token is null)
        {
            throw new NodeOptionsException(
                $"the HTTP API would listen on {endpoint.Address}, which is not loopback: give it a token " +
                "(--token TOKEN or LUAACTORS_TOKEN), or listen on 127.0.0.1");
        }

        if (RemotingExposure.Warning(config) is { } warning)
        {
            options.Errors.WriteLine(warning);
        }

        ListenPortsCheck.Validate(config, endpoint.Port);

        VmManager manager;
        try
        {
            manager = await VmManager.StartAsync(
                new VmManagerOptions { SystemName = NodeConfig.SystemName, Config = hocon }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var remoting = config.GetConfig("akka.remote.dot-netty.tcp");
            throw new NodeStartException(
                $"cannot start the cluster node on {remoting.GetString("hostname")}:{remoting.GetInt("port")}: {Innermost(e).Message}", e);
        }

        var system = manager.System;
        WebApplication? web = null;
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            options.Output.WriteLine($"node: {cluster.SelfAddress}");
            system.ActorOf(ClusterEventLogger.Props(options.Output), "cluster-event-logger");
            var seeds = system.Settings.Config.GetStringList("akka.cluster.seed-nodes");
            if (seeds.Count == 0)
            {
                // No seeds: this node is a cluster of its own (its address is known only now, with port 0).
                options.Output.WriteLine("seeds: none, this node is its own seed");
                cluster.Join(cluster.SelfAddress);
            }
            else
            {
                options.Output.WriteLine($"seeds: {string.Join(", ", seeds)}");
            }

            web = BuildWebApplication(manager, endpoint, token, options.Errors);
            try
            {
                await web.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw new NodeStartException($"the HTTP API cannot listen on {endpoint.Address}:{endpoint.Port}: {Innermost(e).Message}", e);
            }

            var url = BoundUrl(web);
            options.Output.WriteLine($"http: {url}");
            return new RunningNode(manager, web, cluster.SelfAddress, url);
        }
        catch
        {
            if (web is not null)
            {
                await web.DisposeAsync();
            }

            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            throw;
        }
    }

    private static WebApplication BuildWebApplication(VmManager manager, HttpEndpoint endpoint, string? token, TextWriter errors)
    {
        // The empty builder reads no appsettings.json or ASPNETCORE_* variables and logs nothing:
        // the node's own options are the whole configuration.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "luaactors" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = HttpBodyLimit.For(SizeLimits.Of(manager.System));
            kestrel.Listen(endpoint.Address, endpoint.Port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddLuaActorsTelemetry(manager.System.Settings.Config);
        // Signals belong to `luaactors node` (and to the test host when a node runs in a test).
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        var app = builder.Build();
        // Before the token check, which needs to know a WebSocket request (its token may come in the URL).
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        if (token is not null)
        {
            app.UseBearerToken(token);
        }

        app.UseRouting();
        HealthEndpoints.Map(app, manager);
        app.MapLuaActorsMetrics();
        new HttpApi(manager, errors).Map(app);
        return app;
    }

    private static Uri BoundUrl(WebApplication web)
    {
        var bound = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
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
