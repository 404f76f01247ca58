using Akka.Cluster.Sharding;
using LuaActors.Messages;

namespace LuaActors.Cluster;

/// <summary>Routes every <see cref="IVmCommand"/> to the entity named by its VM id.</summary>
public sealed class VmMessageExtractor(int numberOfShards) : HashCodeMessageExtractor(numberOfShards)
{
    public override string? EntityId(object message) => message is IVmCommand command ? command.VmId : null;
}
