namespace LuaActors.Messages;

/// <summary>
/// An interactive-session command. Its sender is the session's actor: managers forward these
/// untouched, so the VM knows where to send the session's events.
/// </summary>
public interface ISessionCommand : IVmCommand
{
    string SessionId { get; }
}

/// <summary>Attach the sending actor to the VM as session <see cref="SessionId"/>.</summary>
public sealed record AttachSession(string VmId, string SessionId) : ISessionCommand;

public sealed record SessionAttached(string VmId, string SessionId, IReadOnlyList<string> Sessions) : ILuaActorsMessage;

public sealed record DetachSession(string VmId, string SessionId) : ISessionCommand;

public sealed record SessionDetached(string VmId, string SessionId) : ILuaActorsMessage;

/// <summary>
/// One REPL line from a session, read like <c>lua -i</c> reads it: an expression shows its
/// value, a statement runs, an unfinished chunk waits for the session's next lines.
/// </summary>
public sealed record SendSessionInput(string VmId, string SessionId, string Line) : ISessionCommand;

/// <summary>Stop the session's running chunk (Ctrl+C); it ends with an Interrupted error, the VM keeps its state.</summary>
public sealed record InterruptSession(string VmId, string SessionId) : ISessionCommand;

/// <summary>
/// Told to every session of the VM when a session's input was evaluated (to the typing
/// session only while its chunk is <see cref="Incomplete"/>). <see cref="ValuesJson"/> is set
/// when the input had values; <see cref="ErrorKind"/> and <see cref="Error"/> when it failed.
/// </summary>
public sealed record SessionInputEvaluated(
    string VmId,
    string FromSession,
    string Input,
    string Output,
    string? ValuesJson,
    ErrorKind? ErrorKind,
    string? Error,
    bool Incomplete) : ILuaActorsMessage;

/// <summary>Told to a VM's sessions when the VM is removed or stopped; the session is over.</summary>
public sealed record VmStopped(string VmId, string Reason) : ILuaActorsMessage;
