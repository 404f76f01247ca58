using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Host;

// The JSON of the HTTP API (docs/api.md), shared by the node (HttpApi) and the client (ApiClient).

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

internal sealed record LimitsDto(int? TimeoutMs = null, int? MemoryMb = null, int? OutputCapBytes = null, int? InboxCapacity = null);

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

internal sealed record VmListDto(IReadOnlyList<VmInfoDto> Vms);

/// <summary>What POST /groups and GET /groups/{name} return: the members in order.</summary>
internal sealed record GroupDto(string Name, IReadOnlyList<VmInfoDto> Vms);

/// <summary>POST /groups/{name}/execute: one result per member, in member order; ok when all succeeded.</summary>
internal sealed record GroupExecuteResponse(bool Ok, IReadOnlyList<ExecuteResponse> Results);

/// <summary>DELETE /groups/{name}.</summary>
internal sealed record GroupRemovedDto(string Name, int Removed);

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

/// <summary>Every answer that is not a success: {"error": {"kind", "message"}}.</summary>
internal sealed record ErrorResponse(ErrorDto Error);

internal sealed record ErrorDto(string Kind, string Message);

/// <summary>GET /cluster.</summary>
internal sealed record ClusterDto(string Self, string? Leader, int Vms, IReadOnlyList<MemberDto> Members);

internal sealed record MemberDto(string Address, string Status, bool Reachable, IReadOnlyList<string> Roles, int Vms);

/// <summary>A JSON value carried as its text, written and read without re-encoding.</summary>
[JsonConverter(typeof(RawJsonConverter))]
internal sealed record RawJson(string Text)
{
    public override string ToString() => Text;
}

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    // The VM's encoder wrote valid JSON; re-encoding could turn 4.0 into 4 or escape characters.
    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}

internal static class ApiJson
{
    /// <summary>What the node reads and writes: camelCase, unknown or mistyped fields refused.</summary>
    public static readonly JsonSerializerOptions Server = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>What the client reads and writes: like the node's, but tolerant of fields added later.</summary>
    public static readonly JsonSerializerOptions Client = new(Server)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>An enum value as the API spells it: kebab-case (AlreadyExists → already-exists).</summary>
    public static string Name<T>(T value) where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());
}
