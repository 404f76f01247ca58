using Akka.Configuration;

namespace LuaActors.Host;

/// <summary>
/// The largest HTTP request body the node reads, derived from <c>luaactors.limits.max-code-size</c>:
/// the code travels JSON-escaped (a quote, a backslash or a newline takes two bytes), so twice
/// the code size, plus room for the request's other fields. A larger body is refused with 413
/// "too-large" before it is read.
/// </summary>
internal static class HttpBodyLimit
{
    public const string CodeSizeKey = "luaactors.limits.max-code-size";

    /// <summary>The code size assumed when the configuration names none.</summary>
    public const long FallbackCodeSize = 8L << 20;

    private const long FieldsRoom = 64L << 10;

    public static long From(Config config)
    {
        var code = config.HasPath(CodeSizeKey) ? config.GetByteSize(CodeSizeKey) ?? FallbackCodeSize : FallbackCodeSize;
        return code * 2 + FieldsRoom;
    }
}
