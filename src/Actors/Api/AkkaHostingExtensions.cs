using Akka.Actor;
using Akka.Hosting;
using LuaActors.Configuration;

namespace LuaActors.Api;

/// <summary>For applications that already host an ActorSystem with Akka.Hosting.</summary>
public static class AkkaHostingExtensions
{
    /// <summary>
    /// Adds hocon/luaactors.conf as a fallback and starts the factory and manager actors; the
    /// manager is registered as <see cref="ManagerActor"/> (get a <see cref="VmManager"/> with
    /// <see cref="GetVmManager"/>).
    /// </summary>
    public static AkkaConfigurationBuilder WithLuaActors(this AkkaConfigurationBuilder builder) =>
        builder
            .AddHocon(LuaActorsConfig.Default, HoconAddMode.Append)
            .WithActors((system, registry) =>
                registry.Register<ManagerActor>(VmManager.SpawnActors(system, system.Settings.Config.WithFallback(LuaActorsConfig.Default))));

    /// <summary>The embedding API over the manager that <see cref="WithLuaActors"/> started.</summary>
    public static VmManager GetVmManager(this ActorSystem system) =>
        VmManager.ForActorSystem(system, ActorRegistry.For(system).Get<ManagerActor>());
}
