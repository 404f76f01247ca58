using System.Text.Json.Serialization;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Host;

// The JSON of /vms: create, list, show, execute (docs/api.md), shared by the node (src/Host/Http) and the client (ApiClient).

/// <summary>The VM options of POST /vms and POST /groups (every member gets the same).</summary>
internal abstract record VmOptionsRequest
{
    public string? Type { get; init; }

    public Dictionary<string, string>? Config { get; init; }

    public string? InitScript { get; init; }

    public LimitsDto? Limits { get; init; }

    /// <summary>Sockets for the VM's Lua code (loopback only unless the node's HOCON widens it).</summary>
    public bool? Networking { get; init; }
}

/// <summary>POST /vms.</summary>
internal sealed record CreateVmRequest : VmOptionsRequest
{
    [JsonRequired]
    public string? Id { get; init; }
}

internal sealed record LimitsDto(int? TimeoutMs = null, int? MemoryMb = null, int? OutputCapBytes = null, int? InboxCapacity = null, StorageLimitsDto? Storage = null);

/// <summary>"limits": {"storage": {...}}: the VM's own storage limits, in bytes and keys (docs/storage.md, "Limits").</summary>
internal sealed record StorageLimitsDto(long? MaxValueBytes = null, int? MaxKeys = null, long? MaxTotalBytes = null);

/// <summary>POST /vms/{id}/execute.</summary>
internal sealed record ExecuteRequest
{
    [JsonRequired]
    public string? Code { get; init; }

    /// <summary>"chunk" (default) or "repl".</summary>
    public string? Mode { get; init; }

    public int? TimeoutMs { get; init; }

    public int? MemoryMb { get; init; }
}

/// <summary>What GET /vms/{id} returns, and each entry of GET /vms.</summary>
internal sealed record VmInfoDto(
    string Id,
    string Type,
    string State,
    int? ProcessId,
    string Node,
    int Restarts,
    long UptimeMs,
    long? ResidentBytes,
    int PendingRequests,
    string? LastError,
    IReadOnlyList<string>? Sessions,
    int InboxCount = 0,
    IReadOnlyList<string>? Peers = null,
    IReadOnlyList<string>? Topics = null,
    IReadOnlyList<string>? Confinement = null)
{
    public static VmInfoDto From(VmInfo info) => new(
        info.VmId, info.Type, ApiJson.Name(info.State), info.ProcessId, info.Node, info.Restarts,
        info.UptimeMs, info.ResidentBytes, info.PendingRequests, info.LastError, info.Sessions ?? [],
        info.InboxCount, info.Peers ?? [], info.Topics ?? [], info.Confinement ?? []);
}

internal sealed record VmListDto(IReadOnlyList<VmInfoDto> Vms);

/// <summary>
/// The 200 answer of an execute: <see cref="Ok"/> true with the values, or false with a Lua
/// error (syntax, runtime, timeout, memory, incomplete), which is a normal result.
/// </summary>
internal sealed record ExecuteResponse
{
    /// <summary>Which VM answered: set in a group's results only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VmId { get; init; }

    public bool Ok { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Count { get; init; }

    /// <summary>The JSON array exactly as the VM encoded it (integers and floats apart).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RawJson? Values { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Output { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? OutputTruncated { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LuaErrorDto? Error { get; init; }

    public static ExecuteResponse Success(ExecuteResult result, string? vmId = null) => new()
    {
        VmId = vmId,
        Ok = true,
        Count = result.Count,
        Values = new RawJson(result.ValuesJson),
        Output = result.Output,
        OutputTruncated = result.OutputTruncated,
    };

    /// <summary>
    /// A failed run: a Lua error with its traceback and output; in a group's results also a
    /// failure of the VM itself (crashed, stopped, …), with its kind and message only.
    /// </summary>
    public static ExecuteResponse Failure(LuaActorsException error, string? vmId = null) => new()
    {
        VmId = vmId,
        Ok = false,
        Error = error is LuaException lua
            ? new LuaErrorDto(ApiJson.Name(lua.Kind), lua.LuaMessage, lua.Traceback, lua.Output, lua.OutputTruncated)
            : new LuaErrorDto(ApiJson.Name(error.Kind), error.Message, "", "", false),
    };
}

internal sealed record LuaErrorDto(string Kind, string Message, string Traceback, string Output, bool OutputTruncated);
