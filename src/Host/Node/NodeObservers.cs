using Akka.DependencyInjection;
using Akka.Hosting;
using Microsoft.Extensions.Logging;

namespace LuaActors.Host;

/// <summary>The node's own observers, started with the actor system so that they miss no VM event.</summary>
internal static class NodeObservers
{
    /// <summary>The VM lifecycle log (<see cref="VmLifecycleLog"/>) and the stats <c>luaactors top</c> reads (<see cref="NodeStatsActor"/>).</summary>
    public static AkkaConfigurationBuilder WithNodeObservers(this AkkaConfigurationBuilder akka) =>
        akka.WithActors((system, _, resolver) =>
        {
            system.ActorOf(VmLifecycleLog.Props(resolver.GetService<ILoggerFactory>()), "vm-lifecycle-log");
            system.ActorOf(NodeStatsActor.Props(), NodeStatsActor.Name);
        });
}
