using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// Requests that wait for a (re)starting process, oldest first, bounded by
/// <c>max-buffered-requests</c>; a session's line re-queued after a crash is not refused.
/// </summary>
internal sealed class WaitingRequests(int capacity)
{
    private readonly Queue<(IVmCommand Command, IActorRef Sender)> _waiting = new();

    public int Count => _waiting.Count;

    /// <summary>False when <c>capacity</c> requests wait already.</summary>
    public bool TryAdd(IVmCommand command, IActorRef sender)
    {
        if (_waiting.Count >= capacity)
        {
            return false;
        }

        _waiting.Enqueue((command, sender));
        return true;
    }

    /// <summary>Queues whatever the bound (what was already accepted once, such as a session's line).</summary>
    public void Requeue(IVmCommand command, IActorRef sender) => _waiting.Enqueue((command, sender));

    public bool TryTake(out (IVmCommand Command, IActorRef Sender) waiting) => _waiting.TryDequeue(out waiting);

    /// <summary>Who waits, oldest first, and nobody waits any more (they are all answered alike).</summary>
    public IReadOnlyList<IActorRef> TakeAll()
    {
        var senders = _waiting.Select(w => w.Sender).ToList();
        _waiting.Clear();
        return senders;
    }
}
