using Akka.Actor;

namespace LuaActors.Vm;

/// <summary>What a request written to the VM's process is for: how its reply is handled.</summary>
internal enum RequestKind
{
    Limits,
    Init,
    Ready,
    Execute,
    Ping,
    Reset,
    SessionInput,
    Serve,
    RestoreServer,
}

/// <summary>A request written to the process and not answered yet.</summary>
/// <param name="Input">The session line's chunk, the StartServer host, or the port of a restored server.</param>
internal sealed record PendingRequest(uint Id, RequestKind Kind, IActorRef ReplyTo, int TimeoutMs, string? SessionId = null, string? Input = null)
{
    /// <summary>Asked for by a user (its reply goes out); the others are the actor's own start-up requests.</summary>
    public bool IsUserRequest => Kind is RequestKind.Execute or RequestKind.Ping or RequestKind.Reset or RequestKind.SessionInput or RequestKind.Serve;
}

/// <summary>
/// The requests in flight to one process: ids in order, replies matched in order (the VM answers
/// one request after another), and the deadline of the one the VM is running (the oldest). No
/// actor and no process: the VM actor feeds it and acts on what it says.
/// </summary>
internal sealed class RequestPipeline(TimeProvider time)
{
    private readonly Queue<PendingRequest> _pending = new();
    private uint _nextId;
    private long _headStartedAt;
    private uint? _killedForTimeout;

    public int Count => _pending.Count;

    public int UserRequestCount => _pending.Count(p => p.IsUserRequest);

    public bool HasUserRequests => _pending.Any(p => p.IsUserRequest);

    /// <summary>Adds a request with the next id; its frame is written with that id.</summary>
    public PendingRequest Add(RequestKind kind, IActorRef replyTo, int timeoutMs, string? sessionId = null, string? input = null)
    {
        if (_pending.Count == 0)
        {
            // The VM starts on it at once: its time runs from now.
            _headStartedAt = time.GetTimestamp();
        }

        var request = new PendingRequest(++_nextId, kind, replyTo, timeoutMs, sessionId, input);
        _pending.Enqueue(request);
        return request;
    }

    /// <summary>
    /// A reply with <paramref name="id"/>: the oldest request, taken out, when the ids match; else
    /// null (a protocol error) and <paramref name="expected"/> names the id that was due.
    /// </summary>
    public PendingRequest? Complete(uint id, out uint? expected)
    {
        if (!_pending.TryPeek(out var head) || head.Id != id)
        {
            expected = head?.Id;
            return null;
        }

        expected = id;
        _pending.Dequeue();
        // The next one starts running now.
        _headStartedAt = time.GetTimestamp();
        return head;
    }

    /// <summary>
    /// The oldest request when it ran past its time limit and <paramref name="grace"/> (the process
    /// is to be killed; <see cref="Abandon"/> then fails it as a timeout); else null.
    /// </summary>
    public PendingRequest? Overdue(TimeSpan grace, out TimeSpan running)
    {
        running = TimeSpan.Zero;
        if (!_pending.TryPeek(out var head))
        {
            return null;
        }

        running = time.GetElapsedTime(_headStartedAt);
        if (running <= TimeSpan.FromMilliseconds(head.TimeoutMs) + grace)
        {
            return null;
        }

        _killedForTimeout = head.Id;
        return head;
    }

    /// <summary>The process is gone: every user request in flight, and whether it was the one killed for its deadline.</summary>
    public IReadOnlyList<(PendingRequest Request, bool TimedOut)> Abandon()
    {
        var abandoned = _pending.Where(p => p.IsUserRequest).Select(p => (p, p.Id == _killedForTimeout)).ToList();
        _pending.Clear();
        _killedForTimeout = null;
        return abandoned;
    }

    /// <summary>The session's chunks that are in the VM (running or queued there).</summary>
    public IEnumerable<PendingRequest> SessionInputsOf(string sessionId) =>
        _pending.Where(p => p.Kind == RequestKind.SessionInput && p.SessionId == sessionId);
}
