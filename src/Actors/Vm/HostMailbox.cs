using Akka.Actor;

namespace LuaActors.Vm;

/// <summary>
/// What a VM sends its owner (<c>vm.send('$host', …)</c>, read with ReceiveFromVmAsync): values
/// queued until someone asks, and the asks that wait for a value (oldest first). Bounded like the
/// inbox. Plain state: the VM actor runs the wait timers and tells the askers.
/// </summary>
internal sealed class HostMailbox
{
    private readonly Queue<string> _values = new();
    private readonly List<(long WaitId, IActorRef ReplyTo)> _waits = [];
    private long _nextWait;

    public int Count => _values.Count;

    public int WaitCount => _waits.Count;

    /// <summary>
    /// A value for the owner: handed to the oldest wait (returned: answer it, cancel its timer),
    /// else queued; <paramref name="queued"/> false when <paramref name="capacity"/> values already wait.
    /// </summary>
    public (long WaitId, IActorRef ReplyTo)? Offer(string valueJson, int capacity, out bool queued)
    {
        if (_waits.Count > 0)
        {
            var wait = _waits[0];
            _waits.RemoveAt(0);
            queued = true;
            return wait;
        }

        queued = _values.Count < capacity;
        if (queued)
        {
            _values.Enqueue(valueJson);
        }

        return null;
    }

    /// <summary>The oldest value, if one is queued.</summary>
    public bool TryTake(out string valueJson) => _values.TryDequeue(out valueJson!);

    /// <summary>Opens a wait for the next value; its id names the timer that ends it.</summary>
    public long Wait(IActorRef replyTo)
    {
        var waitId = ++_nextWait;
        _waits.Add((waitId, replyTo));
        return waitId;
    }

    /// <summary>The wait's time is up: its asker (to be answered "nothing"), or null when a value already answered it.</summary>
    public IActorRef? Expire(long waitId)
    {
        var index = _waits.FindIndex(w => w.WaitId == waitId);
        if (index < 0)
        {
            return null;
        }

        var replyTo = _waits[index].ReplyTo;
        _waits.RemoveAt(index);
        return replyTo;
    }

    /// <summary>The VM stops: every asker still waiting, to be answered.</summary>
    public IReadOnlyList<IActorRef> DropWaits()
    {
        var waiting = _waits.Select(w => w.ReplyTo).ToList();
        _waits.Clear();
        return waiting;
    }
}
