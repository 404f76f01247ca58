using System.Text.Json;

namespace LuaActors.TestKit;

/// <summary>
/// A message a VM took from its inbox with <c>vm.receive</c>: the value (JSON as results are),
/// the sending VM (null when it came from C#) and the topic (null for a direct message).
/// </summary>
public sealed record InboxMessage(JsonElement Value, string? From, string? Topic);
