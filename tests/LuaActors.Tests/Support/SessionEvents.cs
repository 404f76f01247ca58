using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.Tests.Support;

/// <summary>A session's next event, or a failed test: a wait that runs out is never taken for "no output".</summary>
internal static class SessionEvents
{
    public static async Task<ILuaActorsMessage> NextEventAsync(this VmSession session, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        try
        {
            await using var events = session.Events(deadline.Token).GetAsyncEnumerator(deadline.Token);
            Assert.True(await events.MoveNextAsync(), "the session ended before its next event");
            return events.Current;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"no session event within {within.TotalSeconds} s");
            throw;
        }
    }

    /// <summary>
    /// The next event must be this session's own input evaluated (complete or not);
    /// <paramref name="chunk"/> is the chunk so far: the unfinished lines before it and the last line.
    /// </summary>
    public static async Task<SessionInputEvaluated> NextOwnInputAsync(this VmSession session, string chunk, TimeSpan within)
    {
        var evaluated = Assert.IsType<SessionInputEvaluated>(await session.NextEventAsync(within));
        Assert.Equal(session.SessionId, evaluated.FromSession);
        Assert.Equal(chunk, evaluated.Input);
        return evaluated;
    }
}
