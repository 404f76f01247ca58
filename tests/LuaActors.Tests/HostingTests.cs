using Akka.Actor;
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
}
