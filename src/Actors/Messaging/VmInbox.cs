using LuaActors.Messages;

namespace LuaActors.Messaging;

/// <summary>
/// A VM's bounded inbox and the VM's open waits for a message (<c>W</c> frames, docs/protocol.md
/// §11.5). It belongs to the VM's actor, so messages outlive a process restart; the waits belong
/// to one process and are dropped with it.
/// </summary>
internal sealed class VmInbox(int capacity)
{
    private readonly Queue<DeliverMessage> _messages = new();

    // Waits in the order the VM sent them: the oldest is served first.
    private readonly List<uint> _waits = [];

    public int Capacity { get; } = capacity;

    public int Count => _messages.Count;

    public bool IsFull => _messages.Count >= Capacity;

    /// <summary>
    /// Hands <paramref name="message"/> to the oldest open wait (returned, to be answered with a
    /// <c>D</c>), or queues it. False when the inbox is full and nobody waits.
    /// </summary>
    public bool TryOffer(DeliverMessage message, out uint? waitId)
    {
        if (_waits.Count > 0)
        {
            waitId = _waits[0];
            _waits.RemoveAt(0);
            return true;
        }

        waitId = null;
        if (IsFull)
        {
            return false;
        }

        _messages.Enqueue(message);
        return true;
    }

    /// <summary>A <c>W</c>: the next message if there is one (answer it now), else the wait stays open.</summary>
    public DeliverMessage? Want(uint waitId)
    {
        if (_messages.TryDequeue(out var message))
        {
            return message;
        }

        _waits.Add(waitId);
        return null;
    }

    /// <summary>A <c>U</c>: true when the wait was still open (answer it with an empty <c>D</c>).</summary>
    public bool Unwant(uint waitId) => _waits.Remove(waitId);

    /// <summary>Takes the oldest message out (a hand-over moves them to the VM's next home).</summary>
    public bool TryTake(out DeliverMessage message) => _messages.TryDequeue(out message!);

    /// <summary>The process is gone: its waits died with it; the messages stay.</summary>
    public void DropWaits() => _waits.Clear();
}
