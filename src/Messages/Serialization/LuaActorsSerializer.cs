using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace LuaActors.Messages.Serialization;

/// <summary>
/// System.Text.Json with a string manifest (the record's name) for every
/// <see cref="ILuaActorsMessage"/>. Bound in hocon/luaactors.conf; a message type is found by
/// reflection, so a new record only has to implement the marker.
/// </summary>
public sealed class LuaActorsSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id in HOCON; Akka reserves 0-100.</summary>
    public const int SerializerId = 7341;

    private static readonly FrozenDictionary<string, Type> TypesByManifest = typeof(ILuaActorsMessage).Assembly
        .GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ILuaActorsMessage).IsAssignableFrom(t))
        .ToFrozenDictionary(t => t.Name);

    internal static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public LuaActorsSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => SerializerId;

    /// <summary>Every message type this serializer knows, by manifest.</summary>
    public static IReadOnlyDictionary<string, Type> MessageTypes => TypesByManifest;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options)
              ?? throw new SerializationException($"Empty payload for manifest '{manifest}'.")
            : throw new SerializationException($"Unknown LuaActors message manifest '{manifest}'.");

    public override string Manifest(object o) =>
        o is ILuaActorsMessage
            ? o.GetType().Name
            : throw new ArgumentException($"{o.GetType()} is not a LuaActors message.", nameof(o));
}
