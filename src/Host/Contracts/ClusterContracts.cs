namespace LuaActors.Host;

// The JSON of GET /cluster (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>GET /cluster.</summary>
internal sealed record ClusterDto(string Self, string? Leader, int Vms, IReadOnlyList<MemberDto> Members);

internal sealed record MemberDto(string Address, string Status, bool Reachable, IReadOnlyList<string> Roles, int Vms);
