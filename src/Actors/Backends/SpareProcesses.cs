using System.Collections.Concurrent;
using LuaActors.Process;

namespace LuaActors.Backends;

/// <summary>
/// A few interpreter processes started ahead of need, idle on their stdin, for one process
/// backend. A VM that crashes (or is created) takes one instead of waiting for a process start,
/// which costs milliseconds (~13 ms on the development machine, most of it in the kernel); the
/// pool refills in the background. Filled only once the type has started its first VM, so a
/// one-shot `eval` costs at most one extra start. <see cref="Drop"/> kills the spares until the
/// next VM start (shutting every VM down leaves no process); disposing kills them for good.
/// Spares are started before anyone knows whether their VM has networking, so they are confined
/// (when the type is) as VMs without networking, and a networking VM of a confined type never
/// takes one (ProcessBackend).
/// </summary>
internal sealed class SpareProcesses(LaunchCommand command, int size, byte[] confinement) : IDisposable
{
    // A spare's limit until a VM takes it: the interpreter alone, running the host script.
    private const long IdleAddressSpaceBytes = 256L << 20;

    private readonly ConcurrentQueue<LuaProcess> _ready = new();
    private int _starting;
    private int _disposed;

    // Bumped by Drop: a spare whose start began before it is killed when it comes up.
    private int _epoch;

    /// <summary>
    /// A live spare bound to <paramref name="start"/>'s VM, or null (then start one the usual way).
    /// A spare that died while idle is dropped here, when its turn comes.
    /// </summary>
    public LuaProcess? TryTake(InstanceStart start)
    {
        LuaProcess? taken = null;
        while (_ready.TryDequeue(out var spare))
        {
            if (spare.TryBind(start))
            {
                taken = spare;
                break;
            }
        }

        Refill();
        return taken;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _disposed, 1);
        Drop();
    }

    /// <summary>
    /// Kills the idle spares and those still starting; the pool fills again at the next
    /// <see cref="TryTake"/>.
    /// </summary>
    public void Drop()
    {
        Interlocked.Increment(ref _epoch);
        KillReady();
    }

    private void KillReady()
    {
        while (_ready.TryDequeue(out var spare))
        {
            spare.Kill();
        }
    }

    private bool Dropped(int epoch) => Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _epoch) != epoch;

    private void Refill()
    {
        if (Volatile.Read(ref _disposed) != 0 || _ready.Count + Volatile.Read(ref _starting) >= size)
        {
            return;
        }

        Interlocked.Increment(ref _starting);
        var epoch = Volatile.Read(ref _epoch);
        LuaProcess.StartSpareAsync(command, IdleAddressSpaceBytes, confinement).ContinueWith(
            started =>
            {
                Interlocked.Decrement(ref _starting);
                if (!started.IsCompletedSuccessfully)
                {
                    // Starting failed (no interpreter?): the next VM start reports it the usual way.
                    return;
                }

                if (Dropped(epoch))
                {
                    started.Result.Kill();
                    return;
                }

                _ready.Enqueue(started.Result);
                if (Dropped(epoch))
                {
                    // Dropped (or disposed) between the check and the enqueue: checked again
                    // after it, so either Drop or this side kills it.
                    KillReady();
                    return;
                }

                Refill();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
