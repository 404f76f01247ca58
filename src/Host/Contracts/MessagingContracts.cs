using System.Text.Json;
using System.Text.Json.Serialization;

namespace LuaActors.Host;

// The JSON of messages into VMs, topics and peer links (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>POST /vms/{id}/messages and POST /topics/{topic}/messages: one value, any JSON.</summary>
internal sealed record MessageRequest
{
    [JsonRequired]
    public JsonElement Value { get; init; }
}

/// <summary>202 of POST /vms/{id}/messages: the message waits in the inbox (or was handed to a waiting vm.receive).</summary>
internal sealed record MessageAcceptedDto(string Vm, int InboxCount);

/// <summary>202 of POST /topics/{topic}/messages.</summary>
internal sealed record PublishedDto(string Topic);

/// <summary>POST /vms/{id}/peers.</summary>
internal sealed record LinkRequest
{
    [JsonRequired]
    public string? Peer { get; init; }
}
