using Akka.Actor;
using Akka.Hosting;
using LuaActors.Configuration;
using LuaActors.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LuaActors.Api;

/// <summary>
/// The one way LuaActors starts: an Akka.Hosting actor system with <see cref="WithLuaActors(AkkaConfigurationBuilder, LuaActorsOptions)"/>.
/// <c>luaactors node</c>, <see cref="VmManager.StartAsync"/> and applications that host their own
/// actor system all go through it.
/// </summary>
public static class AkkaHostingExtensions
{
    /// <summary><see cref="WithLuaActors(AkkaConfigurationBuilder, LuaActorsOptions)"/> with every setting from HOCON.</summary>
    public static AkkaConfigurationBuilder WithLuaActors(this AkkaConfigurationBuilder builder) =>
        builder.WithLuaActors(new LuaActorsOptions());

    /// <summary><see cref="WithLuaActors(AkkaConfigurationBuilder, LuaActorsOptions)"/> with options set by <paramref name="configure"/>.</summary>
    public static AkkaConfigurationBuilder WithLuaActors(this AkkaConfigurationBuilder builder, Action<LuaActorsOptions> configure)
    {
        var options = new LuaActorsOptions();
        configure(options);
        return builder.WithLuaActors(options);
    }

    /// <summary>
    /// Adds hocon/luaactors.conf as the fallback, lays <paramref name="options"/> over the HOCON
    /// added before this call, and starts the factory and manager actors when the actor system
    /// starts: VMs as children of a local <see cref="ManagerActor"/>, or, when the system is a
    /// cluster, as entities of the shard region "vm" (registered in the <see cref="ActorRegistry"/>
    /// as <see cref="Cluster.VmShardRegion"/>). The manager is registered as
    /// <see cref="ManagerActor"/>; get a <see cref="VmManager"/> with <see cref="GetVmManager"/>,
    /// or from DI after <see cref="AddVmManager"/>.
    /// </summary>
    /// <exception cref="LuaActorsConfigurationException">
    /// An option out of range (here), or a LuaActors key of the resulting configuration (when the
    /// actor system starts).
    /// </exception>
    public static AkkaConfigurationBuilder WithLuaActors(this AkkaConfigurationBuilder builder, LuaActorsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        builder.AddHocon(LuaActorsConfig.Default, HoconAddMode.Append);
        // Over Akka.Cluster.Hosting's sharding defaults, appended before ours (ShardingDefaults).
        var sharding = Cluster.ShardingDefaults.Over(builder.Configuration.HasValue ? builder.Configuration.Value : Akka.Configuration.Config.Empty);
        if (!sharding.IsEmpty)
        {
            builder.AddHocon(sharding, HoconAddMode.Prepend);
        }

        var overrides = options.ToConfig();
        if (!overrides.IsEmpty)
        {
            builder.AddHocon(overrides, HoconAddMode.Prepend);
        }

        // The journal and snapshot plugins follow luaactors.persistence as set so far (HOCON added
        // after this call does not choose them). Durable: they win over the application's
        // choice; off: the in-memory ones only where the application chose none.
        var persistence = LuaActorsConfigurationException.Check(() => PersistenceSettings.From(
            (builder.Configuration.HasValue ? builder.Configuration.Value : Akka.Configuration.Config.Empty).WithFallback(LuaActorsConfig.Default)));
        builder.AddHocon(PersistencePlugins.For(persistence), persistence.IsDurable ? HoconAddMode.Prepend : HoconAddMode.Append);

        return builder.WithActors((system, registry) =>
        {
            var config = system.Settings.Config.WithFallback(LuaActorsConfig.Default);
            LuaActorsConfigurationException.CheckAll(config);
            // A database that cannot be reached stops the start here, with the reason.
            if (LuaActorsPersistence.Get(system).StartProblemAsync().GetAwaiter().GetResult() is { } problem)
            {
                throw new StorageUnavailableException("persistence: " + problem);
            }

            registry.Register<ManagerActor>(VmManager.SpawnActors(system, config));
        });
    }

    /// <summary>
    /// Registers <see cref="VmManager"/> as a singleton over the manager that
    /// <see cref="WithLuaActors(AkkaConfigurationBuilder)"/> starts: resolve it once the host has
    /// started (in a request handler, a hosted service started after Akka's).
    /// </summary>
    public static IServiceCollection AddVmManager(this IServiceCollection services)
    {
        services.TryAddSingleton(provider => provider.GetRequiredService<ActorSystem>().GetVmManager());
        return services;
    }

    /// <summary>The embedding API over the manager that <see cref="WithLuaActors(AkkaConfigurationBuilder)"/> started.</summary>
    public static VmManager GetVmManager(this ActorSystem system) =>
        VmManager.ForActorSystem(system, ActorRegistry.For(system).Get<ManagerActor>());

    /// <summary>
    /// Starts a host that runs LuaActors through Akka.Hosting, so that what cannot start fails
    /// here with its own exception: the actor system is created first (a port in use throws),
    /// the LuaActors keys of its configuration are checked
    /// (<see cref="LuaActorsConfigurationException"/>), then the hosted services start. On
    /// failure the actor system is terminated and the host disposed.
    /// </summary>
    public static async Task StartLuaActorsHostAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        ActorSystem? system = null;
        try
        {
            system = host.Services.GetRequiredService<ActorSystem>();
            LuaActorsConfigurationException.CheckAll(system.Settings.Config.WithFallback(LuaActorsConfig.Default));
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (system is not null)
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            }

            if (host is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                host.Dispose();
            }

            throw;
        }
    }
}
