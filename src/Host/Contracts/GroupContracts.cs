using System.Text.Json.Serialization;

namespace LuaActors.Host;

// The JSON of /groups (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>POST /groups: VMs NAME-1..COUNT, each with the same options.</summary>
internal sealed record CreateGroupRequest : VmOptionsRequest
{
    [JsonRequired]
    public string? Name { get; init; }

    [JsonRequired]
    public int? Count { get; init; }
}

/// <summary>POST /groups/{name}/execute: one chunk on every member at once.</summary>
internal sealed record GroupExecuteRequest
{
    [JsonRequired]
    public string? Code { get; init; }

    public int? TimeoutMs { get; init; }

    public int? MemoryMb { get; init; }
}

/// <summary>What POST /groups and GET /groups/{name} return: the members in order.</summary>
internal sealed record GroupDto(string Name, IReadOnlyList<VmInfoDto> Vms);

/// <summary>POST /groups/{name}/execute: one result per member, in member order; ok when all succeeded.</summary>
internal sealed record GroupExecuteResponse(bool Ok, IReadOnlyList<ExecuteResponse> Results);

/// <summary>DELETE /groups/{name}.</summary>
internal sealed record GroupRemovedDto(string Name, int Removed);
