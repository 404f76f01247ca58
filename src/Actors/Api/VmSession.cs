using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Sessions;

namespace LuaActors.Api;

/// <summary>
/// An interactive session on a VM (the old library's <c>InteractiveSession</c>): lines go in with
/// REPL semantics, events come out — this session's results, other sessions' inputs and results
/// (tagged with their session), restarts, the end of the VM. Read them pull-style with
/// <see cref="ReadOutputAsync"/> or push-style with <see cref="Events"/>; use one style per session.
/// </summary>
public sealed class VmSession : IAsyncDisposable
{
    private readonly VmManager _manager;
    private readonly IActorRef _actor;
    private readonly ChannelReader<ILuaActorsMessage> _events;
    private readonly Task _ended;
    private readonly TimeSpan _detachWithin;
    private int _outstanding;
    private int _detached;

    internal VmSession(
        VmManager manager, string vmId, string sessionId, IActorRef actor, ChannelReader<ILuaActorsMessage> events,
        Task ended, TimeSpan detachWithin, IReadOnlyList<string> sessionsAtAttach)
    {
        _manager = manager;
        VmId = vmId;
        SessionId = sessionId;
        _actor = actor;
        _events = events;
        _ended = ended;
        _detachWithin = detachWithin;
        SessionsAtAttach = sessionsAtAttach;
    }

    public string VmId { get; }

    public string SessionId { get; }

    /// <summary>Every session attached to the VM when this one attached, this one included.</summary>
    public IReadOnlyList<string> SessionsAtAttach { get; }

    /// <summary>
    /// Whether the session is over: detached, or ended because its VM was removed or gave up
    /// (its last event says why). Input is refused then.
    /// </summary>
    public bool IsEnded => Volatile.Read(ref _detached) != 0 || _ended.IsCompleted;

    /// <summary>
    /// Sends one line; its result arrives as an event (see <see cref="SessionInputEvaluated"/>).
    /// Throws <see cref="InvalidOperationException"/> once the session is over (<see cref="IsEnded"/>),
    /// <see cref="ObjectDisposedException"/> once its manager is disposed.
    /// </summary>
    public Task SendInputAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfEnded();
        Interlocked.Increment(ref _outstanding);
        _manager.Manager.Tell(new SendSessionInput(VmId, SessionId, line), _actor);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) for the first event and until every line this
    /// session sent was evaluated, then returns the text a terminal would show since the last
    /// read: printed output, values, errors, and other sessions' lines as
    /// <c>[session] &gt; line</c>. Returns what arrived (maybe "") when the time is up.
    /// </summary>
    public async Task<string> ReadOutputAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var any = false;
            while (!any || Volatile.Read(ref _outstanding) > 0 || _events.TryPeek(out _))
            {
                var next = _events.TryRead(out var ready) ? ready : await _events.ReadAsync(deadline.Token).ConfigureAwait(false);
                Render(next, text);
                any = true;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Timed out: return what arrived.
        }
        catch (ChannelClosedException)
        {
            // The session ended; its last event was rendered.
        }

        return text.ToString();
    }

    /// <summary>The session's events as they come; ends when the session does.</summary>
    public async IAsyncEnumerable<ILuaActorsMessage> Events([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var next in _events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Count(next);
            yield return next;
        }
    }

    /// <summary>
    /// Stops this session's running chunk, like Ctrl+C in <c>lua -i</c>: it ends with an
    /// Interrupted error event and the VM keeps its state. Needs LuaSocket in the VM (the VM
    /// polls for the interrupt); without it the chunk runs to its time limit.
    /// </summary>
    public Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfEnded();
        _manager.Manager.Tell(new InterruptSession(VmId, SessionId), _actor);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Leaves the VM; other sessions on it go on untouched. Returns once the VM let the session go
    /// (a round trip), or at once when the session is over already: calling it again, after the
    /// VM was removed or after the manager was disposed, is harmless. A VM that cannot answer
    /// (its node lost) is given the ask timeout, then forgets the session by itself.
    /// </summary>
    public Task DetachAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _detached, 1) == 0 && !_ended.IsCompleted)
        {
            _actor.Tell(new SessionActor.Detach(_detachWithin));
        }

        // A terminated actor system stops the session's actor, which ends the session.
        return _ended.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync() => await DetachAsync().ConfigureAwait(false);

    private void ThrowIfEnded()
    {
        _manager.ThrowIfDisposed();
        if (Volatile.Read(ref _detached) != 0)
        {
            throw new InvalidOperationException($"session {SessionId} on VM '{VmId}' was detached: attach again to send input");
        }

        if (_ended.IsCompleted)
        {
            throw new InvalidOperationException(
                $"session {SessionId} on VM '{VmId}' has ended (the VM was removed or stopped; its last event says why)");
        }
    }

    /// <summary>One of this session's own lines was answered.</summary>
    private void Count(ILuaActorsMessage message)
    {
        if (message is SessionInputEvaluated evaluated && evaluated.FromSession == SessionId
            || message is RequestFailed)
        {
            Interlocked.Decrement(ref _outstanding);
        }
        else if (message is VmStopped)
        {
            Volatile.Write(ref _outstanding, 0);
        }
    }

    private void Render(ILuaActorsMessage message, StringBuilder text)
    {
        Count(message);
        switch (message)
        {
            case SessionInputEvaluated { Incomplete: true }:
                break;
            case SessionInputEvaluated evaluated:
                if (evaluated.FromSession != SessionId)
                {
                    text.Append('[').Append(evaluated.FromSession).Append("] > ").Append(evaluated.Input).Append('\n');
                }

                text.Append(evaluated.Output);
                if (evaluated.ValuesJson is not null)
                {
                    text.Append(RenderValues(evaluated.ValuesJson)).Append('\n');
                }

                if (evaluated.Error is not null)
                {
                    text.Append(evaluated.Error).Append('\n');
                }

                break;
            case RequestFailed failed:
                text.Append(failed.Message).Append('\n');
                break;
            case VmRestarted restarted:
                text.Append("[VM restarted: ").Append(restarted.Reason).Append("]\n");
                break;
            case VmStopped stopped:
                text.Append("[VM stopped: ").Append(stopped.Reason).Append("]\n");
                break;
        }
    }

    /// <summary>Values as <c>lua -i</c> shows them: strings bare, the rest as JSON, tab-separated.</summary>
    internal static string RenderValues(string valuesJson)
    {
        using var values = JsonDocument.Parse(valuesJson);
        return string.Join('\t', values.RootElement.EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()));
    }
}
