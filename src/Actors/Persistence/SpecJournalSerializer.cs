using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace LuaActors.Persistence;

/// <summary>
/// System.Text.Json with the record's name as manifest, for <see cref="ISpecJournalMessage"/>:
/// the events and snapshots in the database and the spec journal's messages between nodes.
/// Bound in hocon/luaactors.conf. (Not the messages' own serializer: it knows only the types of
/// LuaActors.Messages.)
/// </summary>
public sealed class SpecJournalSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 7342;

    private static readonly FrozenDictionary<string, Type> TypesByManifest = typeof(ISpecJournalMessage).Assembly
        .GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ISpecJournalMessage).IsAssignableFrom(t))
        .ToFrozenDictionary(t => t.Name);

    private static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public override int Identifier => SerializerId;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options) ?? throw new SerializationException($"Empty payload for manifest '{manifest}'.")
            : throw new SerializationException($"Unknown spec journal manifest '{manifest}'.");

    public override string Manifest(object o) =>
        o is ISpecJournalMessage ? o.GetType().Name : throw new ArgumentException($"{o.GetType()} is not a spec journal message.", nameof(o));
}
