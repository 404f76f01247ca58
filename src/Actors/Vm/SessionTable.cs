using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// The interactive sessions attached to one VM. A session's lines are evaluated one at a time
/// (a line may finish the chunk of the lines before it, like <c>lua -i</c>): it holds the
/// unfinished chunk and the lines that wait for the one being evaluated. Plain state: the VM
/// actor writes the frames and tells the clients.
/// </summary>
internal sealed class SessionTable
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>A line to evaluate now: the whole chunk (unfinished lines and this one), and who asked.</summary>
    public readonly record struct Evaluation(string SessionId, string Chunk, IActorRef Sender);

    private sealed class Session(IActorRef client)
    {
        public IActorRef Client { get; } = client;

        public string Unfinished { get; set; } = "";

        public bool Evaluating { get; set; }

        public Queue<(string Line, IActorRef Sender)> Queued { get; } = new();
    }

    public int Count => _sessions.Count;

    /// <summary>The attached session ids, in order.</summary>
    public IReadOnlyList<string> Ids => _sessions.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Every client once (one client may hold several sessions): each sees the VM's whole story.</summary>
    public IEnumerable<IActorRef> Clients => _sessions.Values.Select(s => s.Client).Distinct();

    public bool IsAttached(string sessionId) => _sessions.ContainsKey(sessionId);

    /// <summary>Attaches (or re-attaches) <paramref name="sessionId"/> for <paramref name="client"/>.</summary>
    public void Attach(string sessionId, IActorRef client) => _sessions[sessionId] = new Session(client);

    /// <summary>Detaches; returns the client when it has no session left (stop watching it), else null.</summary>
    public IActorRef? Detach(string sessionId) =>
        _sessions.Remove(sessionId, out var detached) && !_sessions.Values.Any(s => s.Client.Equals(detached.Client))
            ? detached.Client
            : null;

    /// <summary>A client died (its actor, its connection, its node): its sessions go.</summary>
    public void DropClient(IActorRef client)
    {
        foreach (var id in _sessions.Where(s => s.Value.Client.Equals(client)).Select(s => s.Key).ToList())
        {
            _sessions.Remove(id);
        }
    }

    /// <summary>
    /// A line typed into an attached session: the evaluation to start now, or null when the line
    /// waits for the one being evaluated. The session must be attached (<see cref="IsAttached"/>).
    /// </summary>
    public Evaluation? Input(string sessionId, string line, IActorRef sender)
    {
        var session = _sessions[sessionId];
        if (session.Evaluating)
        {
            session.Queued.Enqueue((line, sender));
            return null;
        }

        return Start(sessionId, session, line, sender);
    }

    /// <summary>
    /// The VM answered the session's chunk <paramref name="chunk"/>: an <paramref name="incomplete"/>
    /// one is kept to be read again with the next line. Returns the session's client (null when the
    /// session is gone by now) and the next queued line to evaluate, if any.
    /// </summary>
    public (IActorRef? Client, Evaluation? Next) Evaluated(string sessionId, string chunk, bool incomplete)
    {
        if (!_sessions.TryGetValue(sessionId, out var session))
        {
            return (null, null);
        }

        session.Evaluating = false;
        session.Unfinished = incomplete ? chunk : "";
        return (session.Client, session.Queued.TryDequeue(out var next) ? Start(sessionId, session, next.Line, next.Sender) : null);
    }

    /// <summary>
    /// The process died: a chunk half typed into it is gone; the lines still queued are returned
    /// in order, to be sent again to the next process.
    /// </summary>
    public IReadOnlyList<(string SessionId, string Line, IActorRef Sender)> ResetAfterCrash()
    {
        var requeued = new List<(string, string, IActorRef)>();
        foreach (var (sessionId, session) in _sessions)
        {
            session.Evaluating = false;
            session.Unfinished = "";
            while (session.Queued.TryDequeue(out var queued))
            {
                requeued.Add((sessionId, queued.Line, queued.Sender));
            }
        }

        return requeued;
    }

    /// <summary>
    /// What an evaluated chunk tells: an incomplete one only its typing session (it is read again
    /// with the next line); anything else every session, which sees everyone's inputs and outputs.
    /// </summary>
    public static (ILuaActorsMessage Message, bool ToEveryone) Told(string vmId, string sessionId, string chunk, ILuaActorsMessage reply) =>
        reply switch
        {
            RequestFailed { Kind: ErrorKind.Incomplete } =>
                (new SessionInputEvaluated(vmId, sessionId, chunk, "", null, null, null, Incomplete: true), false),
            Executed executed => (new SessionInputEvaluated(vmId, sessionId, chunk, executed.Output,
                executed.Count > 0 ? executed.ValuesJson : null, null, null, Incomplete: false), true),
            RequestFailed failed => (new SessionInputEvaluated(vmId, sessionId, chunk, failed.Output,
                null, failed.Kind, failed.Message, Incomplete: false), true),
            _ => (reply, true),
        };

    private static Evaluation Start(string sessionId, Session session, string line, IActorRef sender)
    {
        session.Evaluating = true;
        return new Evaluation(sessionId, session.Unfinished.Length > 0 ? session.Unfinished + "\n" + line : line, sender);
    }
}
