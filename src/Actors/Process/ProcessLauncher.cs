using System.Collections.Concurrent;

namespace LuaActors.Process;

/// <summary>
/// Starts luaactors-spawn, and the VM processes of the exec chain, from a few dedicated,
/// never-ending threads. The kill-on-parent-death signal (PR_SET_PDEATHSIG, set by the launcher
/// itself or by <c>setpriv --pdeathsig</c>) fires when the THREAD that forked the child exits
/// (prctl(2)), and .NET forks from the calling thread: spawned from a thread-pool thread that
/// later retires, a healthy launcher or VM would be killed at random.
/// <para>
/// One thread per core (at most 4): <c>Process.Start</c> holds its thread until the child has
/// exec'd, several ms per start on a machine with slow page-table work, and .NET lets starts
/// run concurrently; a single thread made 1000 starts strictly serial.
/// </para>
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<Action> Work = new();

    static ProcessLauncher()
    {
        var threads = Math.Clamp(Environment.ProcessorCount, 1, 4);
        for (var i = 0; i < threads; i++)
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
                Name = "luaactors-process-launcher-" + i,
            };
            thread.Start();
        }
    }

    /// <summary>Runs <paramref name="start"/> (which must fork synchronously) on a launcher thread.</summary>
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
