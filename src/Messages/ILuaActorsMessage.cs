namespace LuaActors.Messages;

/// <summary>
/// Marker for every message that may cross an actor-system boundary. The HOCON binds this
/// interface to <see cref="Serialization.LuaActorsSerializer"/>, so nothing falls back to the
/// default Newtonsoft serializer.
/// </summary>
public interface ILuaActorsMessage;

/// <summary>A command addressed to one VM; the id routes it (and later picks its shard).</summary>
public interface IVmCommand : ILuaActorsMessage
{
    string VmId { get; }
}
