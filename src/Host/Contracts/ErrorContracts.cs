namespace LuaActors.Host;

// The error answer of every endpoint (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>Every answer that is not a success: {"error": {"kind", "message"}}.</summary>
internal sealed record ErrorResponse(ErrorDto Error);

internal sealed record ErrorDto(string Kind, string Message);
