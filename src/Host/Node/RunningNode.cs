using Akka;
using Akka.Actor;
using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;

namespace LuaActors.Host;

/// <summary>A started node: its Akka address, its HTTP URL, and a graceful stop through the host.</summary>
internal sealed class RunningNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lazy<Task> _stop;
    private readonly Lazy<Task> _stopHttp;

    public RunningNode(WebApplication app, Address address, Uri httpUrl)
    {
        _app = app;
        System = app.Services.GetRequiredService<ActorSystem>();
        Manager = app.Services.GetRequiredService<VmManager>();
        Address = address;
        HttpUrl = httpUrl;
        _stop = new Lazy<Task>(StopOnceAsync);

        // The host stops the HTTP server before Akka. Whatever else starts CoordinatedShutdown
        // (Akka's SIGTERM hook, an operator's leave, a downing), the HTTP API stops taking
        // requests first too, letting those in flight finish, before the VMs stop.
        _stopHttp = new Lazy<Task>(StopHttpOnceAsync);
        CoordinatedShutdown.Get(System).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-http-api", async () =>
        {
            await _stopHttp.Value;
            return Done.Instance;
        });
    }

    public VmManager Manager { get; }

    public ActorSystem System { get; }

    /// <summary>The node's services (DI): the ActorSystem, the VmManager, the ActorRegistry.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>akka.tcp://luaactors@HOST:PORT, the address seeds and VmInfo.Node use.</summary>
    public Address Address { get; }

    /// <summary>The HTTP API, as a client on this machine reaches it (http://127.0.0.1:PORT/).</summary>
    public Uri HttpUrl { get; }

    /// <summary>Completes when the actor system stops: after <see cref="StopAsync"/>, or when the cluster downs this node.</summary>
    public Task Terminated => System.WhenTerminated;

    /// <summary>Why the node stopped (null while it runs): a leave or process exit, or a downing.</summary>
    public CoordinatedShutdown.Reason? ShutdownReason => CoordinatedShutdown.Get(System).ShutdownReason;

    /// <summary>Whether the node stopped because it was asked to (host stop, signal, leave), not downed by the cluster.</summary>
    public bool StoppedOnPurpose =>
        ShutdownReason is CoordinatedShutdown.ClusterLeavingReason or CoordinatedShutdown.ClrExitReason;

    /// <summary>
    /// Stops the host: the HTTP API stops first (requests in flight may finish), then Akka.Hosting
    /// runs CoordinatedShutdown (the node leaves the cluster, the VM actors stop and kill their
    /// processes, the actor system stops). Returns once all is stopped. Safe to call more than
    /// once, and after the cluster downed the node.
    /// </summary>
    public Task StopAsync() => _stop.Value;

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopOnceAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await System.WhenTerminated;
        await _stopHttp.Value;
        await _app.DisposeAsync();
    }

    private async Task StopHttpOnceAsync()
    {
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await _app.Services.GetRequiredService<IServer>().StopAsync(drain.Token);
        }
        catch (OperationCanceledException)
        {
            // Requests still running after the drain are cut off.
        }
    }
}
