using Akka;
using Akka.Actor;
using LuaActors.Api;
using Microsoft.AspNetCore.Builder;

namespace LuaActors.Host;

/// <summary>A started node: its Akka address, its HTTP URL, and a graceful stop.</summary>
internal sealed class RunningNode : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly Lazy<Task> _stop;
    private readonly Lazy<Task> _stopHttp;

    public RunningNode(VmManager manager, WebApplication web, Address address, Uri httpUrl)
    {
        Manager = manager;
        _web = web;
        Address = address;
        HttpUrl = httpUrl;
        _stop = new Lazy<Task>(StopOnceAsync);

        // Whatever starts CoordinatedShutdown (StopAsync, SIGTERM through Akka's own hook, an
        // operator's leave), the HTTP API stops taking requests first, letting those in flight
        // finish, before the node leaves the cluster and its VMs stop.
        _stopHttp = new Lazy<Task>(StopHttpOnceAsync);
        CoordinatedShutdown.Get(System).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-http-api", async () =>
        {
            await _stopHttp.Value;
            return Done.Instance;
        });
    }

    public VmManager Manager { get; }

    public ActorSystem System => Manager.System;

    /// <summary>akka.tcp://luaactors@HOST:PORT, the address seeds and VmInfo.Node use.</summary>
    public Address Address { get; }

    /// <summary>The HTTP API, as a client on this machine reaches it (http://127.0.0.1:PORT/).</summary>
    public Uri HttpUrl { get; }

    /// <summary>Completes when the actor system stops: after <see cref="StopAsync"/>, or when the cluster downs this node.</summary>
    public Task Terminated => System.WhenTerminated;

    /// <summary>Why the node stopped (null while it runs): a leave or process exit, or a downing.</summary>
    public CoordinatedShutdown.Reason? ShutdownReason => CoordinatedShutdown.Get(System).ShutdownReason;

    /// <summary>Whether the node stopped because it was asked to (leave, signal), not downed by the cluster.</summary>
    public bool StoppedOnPurpose =>
        ShutdownReason is CoordinatedShutdown.ClusterLeavingReason or CoordinatedShutdown.ClrExitReason;

    /// <summary>
    /// Leaves the cluster with CoordinatedShutdown (the HTTP API stops first, then the VM actors
    /// stop and kill their processes, then the actor system) and returns once all is stopped.
    /// Safe to call more than once, and after the cluster downed the node.
    /// </summary>
    public Task StopAsync() => _stop.Value;

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopOnceAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await System.WhenTerminated;
        // A downed node runs CoordinatedShutdown from a later phase: the HTTP API is still up.
        await _stopHttp.Value;
        await _web.DisposeAsync();
    }

    private async Task StopHttpOnceAsync()
    {
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await _web.StopAsync(drain.Token);
        }
        catch (OperationCanceledException)
        {
            // Requests still running after the drain are cut off.
        }
    }
}
