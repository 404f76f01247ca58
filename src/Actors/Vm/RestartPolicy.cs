namespace LuaActors.Vm;

/// <summary>What to do after a process was lost: start another after <see cref="Backoff"/>, or give up.</summary>
internal readonly record struct RestartDecision(bool GiveUp, TimeSpan Backoff, int RestartsInWindow);

/// <summary>
/// When a VM's process dies: restart at once the first time, then with a doubling backoff
/// (capped); give up when more than <c>maxRestarts</c> restarts fall within <c>window</c>
/// (like an OTP supervisor's intensity). Plain state, driven by the VM actor and by tests.
/// </summary>
internal sealed class RestartPolicy(int maxRestarts, TimeSpan window, TimeSpan baseBackoff, TimeSpan maxBackoff, TimeProvider time)
{
    private readonly Queue<long> _recent = new();

    /// <summary>Restarts since the VM was created (reported in its info and events).</summary>
    public int Restarts { get; private set; }

    public TimeSpan Window => window;

    /// <summary>Counts a restart now and decides.</summary>
    public RestartDecision RecordRestart()
    {
        Restarts++;
        var now = time.GetTimestamp();
        _recent.Enqueue(now);
        while (_recent.Count > 0 && time.GetElapsedTime(_recent.Peek(), now) > window)
        {
            _recent.Dequeue();
        }

        return _recent.Count > maxRestarts
            ? new RestartDecision(true, TimeSpan.Zero, _recent.Count)
            : new RestartDecision(false, Backoff(_recent.Count), _recent.Count);
    }

    /// <summary>None for the first restart in the window, then base, 2×base, 4×base … up to the maximum.</summary>
    public TimeSpan Backoff(int restartsInWindow)
    {
        if (restartsInWindow <= 1)
        {
            return TimeSpan.Zero;
        }

        var doubled = baseBackoff * Math.Pow(2, Math.Min(restartsInWindow - 2, 30));
        return doubled < maxBackoff ? doubled : maxBackoff;
    }
}
