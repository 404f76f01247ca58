using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>Sessions: one line evaluated at a time, unfinished chunks, crashes, clients.</summary>
public sealed class SessionTableTests
{
    private readonly RecordingRef _alice = new("alice");
    private readonly RecordingRef _bob = new("bob");

    [Fact]
    public void Lines_of_a_session_are_evaluated_one_at_a_time_in_order()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);

        Assert.Equal("x = 1", table.Input("s1", "x = 1", _alice)?.Chunk);
        Assert.Null(table.Input("s1", "y = 2", _alice));
        Assert.Null(table.Input("s1", "z = 3", _alice));

        Assert.Equal("y = 2", table.Evaluated("s1", "x = 1", incomplete: false).Next?.Chunk);
        Assert.Equal("z = 3", table.Evaluated("s1", "y = 2", incomplete: false).Next?.Chunk);
        var (client, next) = table.Evaluated("s1", "z = 3", incomplete: false);
        Assert.Same(_alice, client);
        Assert.Null(next);
        Assert.NotNull(table.Input("s1", "w = 4", _alice));
    }

    [Fact]
    public void An_unfinished_chunk_is_read_again_with_the_next_line()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);
        table.Input("s1", "function f()", _alice);
        table.Evaluated("s1", "function f()", incomplete: true);

        var evaluation = table.Input("s1", "return 1 end", _alice);
        Assert.Equal("function f()\nreturn 1 end", evaluation?.Chunk);

        table.Evaluated("s1", evaluation!.Value.Chunk, incomplete: false);
        Assert.Equal("f()", table.Input("s1", "f()", _alice)?.Chunk);
    }

    [Fact]
    public void Sessions_do_not_wait_for_each_other()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);
        table.Attach("s2", _bob);
        Assert.NotNull(table.Input("s1", "a", _alice));
        Assert.NotNull(table.Input("s2", "b", _bob));
    }

    [Fact]
    public void A_crash_drops_the_unfinished_chunk_and_hands_back_queued_lines_in_order()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);
        table.Input("s1", "for i = 1, 2 do", _alice);
        table.Evaluated("s1", "for i = 1, 2 do", incomplete: true);
        table.Input("s1", "print(i)", _alice);
        table.Input("s1", "one", _alice);
        table.Input("s1", "two", _bob);

        var requeued = table.ResetAfterCrash();
        Assert.Equal([("s1", "one", (Akka.Actor.IActorRef)_alice), ("s1", "two", _bob)], requeued);
        // Nothing is being evaluated, and the half-typed loop is gone.
        Assert.Equal("end", table.Input("s1", "end", _alice)?.Chunk);
    }

    [Fact]
    public void An_answer_for_a_session_gone_meanwhile_is_dropped()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);
        table.Input("s1", "x", _alice);
        table.Detach("s1");
        Assert.Equal((null, null), table.Evaluated("s1", "x", incomplete: false));
    }

    [Fact]
    public void A_client_is_unwatched_only_when_its_last_session_detaches()
    {
        var table = new SessionTable();
        table.Attach("s1", _alice);
        table.Attach("s2", _alice);
        table.Attach("s3", _bob);
        Assert.Equal(["s1", "s2", "s3"], table.Ids);
        Assert.Equal(2, table.Clients.Count());

        Assert.Null(table.Detach("s1"));
        Assert.Same(_alice, table.Detach("s2"));
        Assert.Null(table.Detach("nope"));
        Assert.Equal(["s3"], table.Ids);
    }

    [Fact]
    public void A_dead_client_loses_all_its_sessions()
    {
        var table = new SessionTable();
        table.Attach("b", _alice);
        table.Attach("a", _alice);
        table.Attach("c", _bob);
        table.DropClient(_alice);
        Assert.Equal(["c"], table.Ids);
        Assert.False(table.IsAttached("a"));
    }
}
