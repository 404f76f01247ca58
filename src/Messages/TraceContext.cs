namespace LuaActors.Messages;

/// <summary>
/// The W3C trace context of the span that sent a command (the <c>traceparent</c> and
/// <c>tracestate</c> headers' values), so the span that serves it on another node continues
/// the same trace (docs/operations.md, "Traces").
/// </summary>
public sealed record TraceContext(string TraceParent, string? TraceState = null);
