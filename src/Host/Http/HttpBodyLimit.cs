using LuaActors.Configuration;

namespace LuaActors.Host;

/// <summary>
/// The largest HTTP request body the node reads, derived from <c>luaactors.limits.max-code-size</c>:
/// the code travels JSON-escaped (a quote, a backslash or a newline takes two bytes), so twice
/// the code size, plus room for the request's other fields. A larger body is refused with 413
/// "too-large" before it is read.
/// </summary>
internal static class HttpBodyLimit
{
    private const long FieldsRoom = 64L << 10;

    public static long For(SizeLimits limits) => limits.MaxCodeSize * 2 + FieldsRoom;
}
