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
    private int _outstanding;

    internal VmSession(
        VmManager manager, string vmId, string sessionId, IActorRef actor, ChannelReader<ILuaActorsMessage> events,
        IReadOnlyList<string> sessionsAtAttach)
    {
        _manager = manager;
        VmId = vmId;
        SessionId = sessionId;
        _actor = actor;
        _events = events;
        SessionsAtAttach = sessionsAtAttach;
    }

    public string VmId { get; }

    public string SessionId { get; }

    /// <summary>Every session attached to the VM when this one attached, this one included.</summary>
    public IReadOnlyList<string> SessionsAtAttach { get; }

    /// <summary>Sends one line; its result arrives as an event (see <see cref="SessionInputEvaluated"/>).</summary>
    public Task SendInputAsync(string line, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
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
        _manager.Manager.Tell(new InterruptSession(VmId, SessionId), _actor);
        return Task.CompletedTask;
    }

    /// <summary>Leaves the VM; other sessions on it go on untouched.</summary>
    public async Task DetachAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _actor.Tell(new SessionActor.Detach(done));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DetachAsync().ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _manager.System.Stop(_actor);
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
