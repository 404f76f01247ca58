using System.Text.Json.Serialization;
using LuaActors.Messages;

namespace LuaActors.Host;

// The JSON text messages of the attach WebSocket (GET /vms/{id}/attach, docs/api.md), beside
// ApiContracts: a stable contract of their own, so the library's event records can change
// without breaking clients.

/// <summary>What the client sends: {"type":"input","line":"…"}, {"type":"interrupt"} or {"type":"detach"}.</summary>
internal sealed record SessionRequest
{
    public const string Input = "input";
    public const string Interrupt = "interrupt";
    public const string Detach = "detach";

    [JsonRequired]
    public string? Type { get; init; }

    /// <summary>The REPL line of an "input".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Line { get; init; }
}

/// <summary>What the node sends: one message per session event, "type" first.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(AttachedMessage), "attached")]
[JsonDerivedType(typeof(EvaluatedMessage), "evaluated")]
[JsonDerivedType(typeof(RestartedMessage), "restarted")]
[JsonDerivedType(typeof(StoppedMessage), "stopped")]
[JsonDerivedType(typeof(DetachedMessage), "detached")]
[JsonDerivedType(typeof(SessionErrorMessage), "error")]
internal abstract record SessionMessage
{
    /// <summary>The message of a session event; null for events the protocol does not show.</summary>
    public static SessionMessage? From(ILuaActorsMessage message) => message switch
    {
        SessionInputEvaluated evaluated => new EvaluatedMessage(
            evaluated.FromSession,
            evaluated.Input,
            evaluated.Output,
            new RawJson(evaluated.ValuesJson ?? "[]"),
            evaluated.ErrorKind is { } kind ? new ErrorDto(ApiJson.Name(kind), evaluated.Error ?? "") : null,
            evaluated.Incomplete),
        VmRestarted restarted => new RestartedMessage(restarted.Restarts, restarted.Reason),
        VmStopped stopped => new StoppedMessage(stopped.Reason),
        RequestFailed failed => new SessionErrorMessage(ApiJson.Name(failed.Kind), failed.Message),
        _ => null,
    };
}

/// <summary>The first message: this connection's session, and every session on the VM now (this one included).</summary>
internal sealed record AttachedMessage(string VmId, string SessionId, IReadOnlyList<string> Sessions) : SessionMessage;

/// <summary>
/// A line was evaluated. <see cref="Session"/> is the session that typed it (another one's
/// lines come too, so everyone sees the same story). <see cref="Values"/> is the JSON array of
/// its values ([] for none), <see cref="Error"/> its Lua error or null. <see cref="Incomplete"/>:
/// the chunk is unfinished and waits for more lines (a prompt shows ">>"); only the typing
/// session is told.
/// </summary>
internal sealed record EvaluatedMessage(
    string Session, string Input, string Output, RawJson Values, ErrorDto? Error, bool Incomplete) : SessionMessage;

/// <summary>The VM's process was replaced (crash, kill, runaway request, a move to another node); globals are gone.</summary>
internal sealed record RestartedMessage(int Restarts, string Reason) : SessionMessage;

/// <summary>The VM was removed or stopped: the session is over and the node closes the socket.</summary>
internal sealed record StoppedMessage(string Reason) : SessionMessage;

/// <summary>The session left the VM (the client asked): the node closes the socket.</summary>
internal sealed record DetachedMessage(string SessionId) : SessionMessage;

/// <summary>
/// A message of the client could not be used (not JSON, an unknown type), or the VM could not
/// take this session's line (overloaded, crashed); the connection stays usable.
/// </summary>
internal sealed record SessionErrorMessage(string Kind, string Message) : SessionMessage;
