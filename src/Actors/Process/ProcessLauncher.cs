using System.Collections.Concurrent;

namespace LuaActors.Process;

/// <summary>
/// Starts every VM process from one dedicated, never-ending thread. The kill-on-parent-death
/// signal (PR_SET_PDEATHSIG, set by <c>setpriv --pdeathsig</c>) fires when the THREAD that forked
/// the child exits (prctl(2)), and .NET forks from the calling thread: spawned from a thread-pool
/// thread that later retires, a healthy VM would be killed at random.
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<Action> Work = new();

    static ProcessLauncher()
    {
        var thread = new Thread(() =>
        {
            foreach (var item in Work.GetConsumingEnumerable())
            {
                item();
            }
        })
        {
            IsBackground = true,
            Name = "luaactors-process-launcher",
        };
        thread.Start();
    }

    /// <summary>Runs <paramref name="start"/> (which must fork synchronously) on the launcher thread.</summary>
    public static Task<T> RunAsync<T>(Func<T> start)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() =>
        {
            try
            {
                done.SetResult(start());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }
}
