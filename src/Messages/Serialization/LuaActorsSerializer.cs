using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Encodings.Web;
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
        // Non-ASCII text as UTF-8, not \uXXXX (6 bytes a character): these bytes go to other
        // nodes only, never into HTML, and every byte counts against luaactors.limits.max-message-size.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public LuaActorsSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => SerializerId;

    /// <summary>Every message type this serializer knows, by manifest.</summary>
    public static IReadOnlyDictionary<string, Type> MessageTypes => TypesByManifest;

    /// <summary>
    /// The size <see cref="ToBinary"/> would give <paramref name="message"/>, counted as it is
    /// written: measuring a large reply builds no large array.
    /// </summary>
    public static long SizeOf(ILuaActorsMessage message)
    {
        using var counter = new CountingStream();
        JsonSerializer.Serialize(counter, message, message.GetType(), Options);
        return counter.Length;
    }

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

/// <summary>A write-only stream that keeps only the number of bytes written to it.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => _length += count;

    public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
