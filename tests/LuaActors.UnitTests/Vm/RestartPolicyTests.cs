using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>Backoff and the restart intensity window, with a clock moved by hand.</summary>
public sealed class RestartPolicyTests
{
    private readonly ManualTime _time = new();

    private RestartPolicy Policy(int maxRestarts = 3) =>
        new(maxRestarts, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(350), _time);

    [Fact]
    public void The_first_restart_is_at_once_then_the_backoff_doubles_up_to_its_maximum()
    {
        var policy = Policy(maxRestarts: 10);
        var backoffs = Enumerable.Range(0, 5).Select(_ => policy.RecordRestart().Backoff.TotalMilliseconds).ToArray();
        Assert.Equal([0, 100, 200, 350, 350], backoffs);
        Assert.Equal(5, policy.Restarts);
    }

    [Fact]
    public void More_restarts_than_allowed_within_the_window_give_up()
    {
        var policy = Policy(maxRestarts: 3);
        Assert.False(policy.RecordRestart().GiveUp);
        Assert.False(policy.RecordRestart().GiveUp);
        Assert.False(policy.RecordRestart().GiveUp);
        var fourth = policy.RecordRestart();
        Assert.True(fourth.GiveUp);
        Assert.Equal(4, fourth.RestartsInWindow);
    }

    [Fact]
    public void Restarts_older_than_the_window_no_longer_count_and_the_backoff_starts_over()
    {
        var policy = Policy(maxRestarts: 3);
        policy.RecordRestart();
        policy.RecordRestart();
        policy.RecordRestart();
        _time.Advance(TimeSpan.FromSeconds(11));

        var after = policy.RecordRestart();
        Assert.False(after.GiveUp);
        Assert.Equal(1, after.RestartsInWindow);
        Assert.Equal(TimeSpan.Zero, after.Backoff);
        // The total still counts every restart.
        Assert.Equal(4, policy.Restarts);
    }

    [Fact]
    public void A_restart_exactly_at_the_window_edge_still_counts()
    {
        var policy = Policy(maxRestarts: 1);
        policy.RecordRestart();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(policy.RecordRestart().GiveUp);
    }

    [Fact]
    public void With_no_restarts_allowed_the_first_crash_gives_up()
    {
        Assert.True(Policy(maxRestarts: 0).RecordRestart().GiveUp);
    }
}
