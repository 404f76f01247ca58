using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Remote.Hosting;
using Akka.Hosting;
using LuaActors.Api;
using LuaActors.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LuaActors.Tests;

/// <summary>An application that hosts its own ActorSystem adds LuaActors with one builder call.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task WithLuaActors_runs_vms_in_the_applications_actor_system()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted", akka => akka.WithLuaActors());
        using var host = builder.Build();
        await host.StartAsync();
        int pid;
        try
        {
            var manager = host.Services.GetRequiredService<ActorSystem>().GetVmManager();
            var vm = await manager.CreateVmAsync("hosted-1");
            Assert.Equal(4.0, await vm.ExecuteAsync<double>("return math.sqrt(16)"));
            pid = (await vm.GetInfoAsync()).ProcessId!.Value;
        }
        finally
        {
            await host.StopAsync();
        }

        await LuaProcesses.AssertGoneAsync([pid]);
    }

    [Fact]
    public async Task In_a_hosted_cluster_vms_are_remembered_and_never_passivated_for_idling()
    {
        // WithClustering appends Akka's sharding defaults before WithLuaActors: without
        // ShardingDefaults, idle VMs were passivated after 2 minutes and none was remembered.
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted", akka => akka
            .AddHocon("akka.cluster.sharding.handoff-timeout = 7s", HoconAddMode.Prepend)
            .WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
            .WithClustering()
            .WithLuaActors());
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var settings = ClusterShardingSettings.Create(host.Services.GetRequiredService<ActorSystem>());
            Assert.True(settings.RememberEntities);
            Assert.Equal(TimeSpan.Zero, settings.PassivateIdleEntityAfter);
            Assert.Equal(TimeSpan.FromMilliseconds(500), settings.TuningParameters.RetryInterval);
            // What the application set itself stays.
            Assert.Equal(TimeSpan.FromSeconds(7), settings.TuningParameters.HandOffTimeout);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
