using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The requests in flight to a VM's process: ids, in-order answers, deadlines.</summary>
public sealed class RequestPipelineTests
{
    private readonly ManualTime _time = new();
    private readonly RecordingRef _asker = new("asker");

    [Fact]
    public void Ids_rise_from_one_and_replies_are_matched_to_the_oldest_request_in_order()
    {
        var pipeline = new RequestPipeline(_time);
        var first = pipeline.Add(RequestKind.Limits, _asker, 1000);
        var second = pipeline.Add(RequestKind.Execute, _asker, 1000);
        var third = pipeline.Add(RequestKind.Ping, _asker, 1000);
        Assert.Equal([1u, 2u, 3u], new[] { first.Id, second.Id, third.Id });

        Assert.Same(first, pipeline.Complete(1, out _));
        Assert.Same(second, pipeline.Complete(2, out _));
        Assert.Equal(1, pipeline.Count);
    }

    [Fact]
    public void A_reply_out_of_order_is_refused_and_names_the_request_that_was_due()
    {
        var pipeline = new RequestPipeline(_time);
        pipeline.Add(RequestKind.Execute, _asker, 1000);
        pipeline.Add(RequestKind.Execute, _asker, 1000);

        Assert.Null(pipeline.Complete(2, out var expected));
        Assert.Equal(1u, expected);
        Assert.Equal(2, pipeline.Count);

        Assert.Null(new RequestPipeline(_time).Complete(7, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void Ids_keep_rising_after_the_pipeline_empties()
    {
        var pipeline = new RequestPipeline(_time);
        pipeline.Complete(pipeline.Add(RequestKind.Execute, _asker, 10).Id, out _);
        Assert.Equal(2u, pipeline.Add(RequestKind.Execute, _asker, 10).Id);
    }

    [Fact]
    public void Only_the_oldest_request_runs_against_its_deadline_and_its_time_starts_when_the_one_before_it_ends()
    {
        var pipeline = new RequestPipeline(_time);
        var grace = TimeSpan.FromMilliseconds(100);
        pipeline.Add(RequestKind.Execute, _asker, 1000);
        pipeline.Add(RequestKind.Execute, _asker, 1000);

        _time.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.Null(pipeline.Overdue(grace, out _));

        // The first ends late; the second has its whole second from now, though it waited 1.1 s.
        pipeline.Complete(1, out _);
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.Null(pipeline.Overdue(grace, out _));

        _time.Advance(TimeSpan.FromMilliseconds(101));
        var overdue = pipeline.Overdue(grace, out var running);
        Assert.Equal(2u, overdue?.Id);
        Assert.Equal(TimeSpan.FromMilliseconds(1101), running);
    }

    [Fact]
    public void A_request_added_to_an_empty_pipeline_starts_its_time_then_not_at_the_last_reply()
    {
        var pipeline = new RequestPipeline(_time);
        pipeline.Complete(pipeline.Add(RequestKind.Execute, _asker, 1000).Id, out _);
        _time.Advance(TimeSpan.FromSeconds(5));
        pipeline.Add(RequestKind.Execute, _asker, 1000);
        Assert.Null(pipeline.Overdue(TimeSpan.Zero, out _));
    }

    [Fact]
    public void Abandoning_fails_user_requests_only_and_marks_the_one_killed_for_its_deadline()
    {
        var pipeline = new RequestPipeline(_time);
        pipeline.Add(RequestKind.Limits, _asker, 100);
        pipeline.Complete(1, out _);
        var stuck = pipeline.Add(RequestKind.Execute, _asker, 100);
        var queued = pipeline.Add(RequestKind.Ping, _asker, 100);
        pipeline.Add(RequestKind.Ready, _asker, 100);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Same(stuck, pipeline.Overdue(TimeSpan.Zero, out _));

        var abandoned = pipeline.Abandon();
        Assert.Equal([(stuck, true), (queued, false)], abandoned);
        Assert.Equal(0, pipeline.Count);

        // The mark does not outlive the process it was for.
        pipeline.Add(RequestKind.Execute, _asker, 100);
        Assert.All(pipeline.Abandon(), a => Assert.False(a.TimedOut));
    }

    [Fact]
    public void User_requests_are_counted_apart_from_the_actors_own()
    {
        var pipeline = new RequestPipeline(_time);
        pipeline.Add(RequestKind.Limits, _asker, 1);
        pipeline.Add(RequestKind.Init, _asker, 1);
        pipeline.Add(RequestKind.RestoreServer, _asker, 1);
        pipeline.Add(RequestKind.Ready, _asker, 1);
        Assert.False(pipeline.HasUserRequests);

        pipeline.Add(RequestKind.Serve, _asker, 1);
        pipeline.Add(RequestKind.SessionInput, _asker, 1, "s1", "x");
        pipeline.Add(RequestKind.SessionInput, _asker, 1, "s2", "y");
        Assert.True(pipeline.HasUserRequests);
        Assert.Equal(3, pipeline.UserRequestCount);
        Assert.Equal(["x"], pipeline.SessionInputsOf("s1").Select(p => p.Input));
    }
}
