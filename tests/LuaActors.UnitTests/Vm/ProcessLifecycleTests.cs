using System.Globalization;
using LuaActors.Backends;
using LuaActors.Messages;
using LuaActors.Protocol;
using LuaActors.UnitTests.Protocol;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The bookkeeping of a VM's processes: start-up sequence, early exits, losses and what follows them.</summary>
public sealed class ProcessLifecycleTests
{
    private readonly ManualTime _time = new();

    private ProcessLifecycle Lifecycle(int maxRestarts = 2) =>
        new(new RestartPolicy(maxRestarts, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), _time), _time);

    private static HostLimits Limits => new(2000, 1024, 100, 100, 100, "vm1");

    [Fact]
    public void A_new_process_gets_its_limits_then_the_init_script_then_its_servers_then_a_ping()
    {
        var requests = ProcessLifecycle.StartupRequests(Limits, "x = 1", [("127.0.0.1", 8080), ("::1", 8081)]);
        Assert.Equal(
            [RequestKind.Limits, RequestKind.Init, RequestKind.RestoreServer, RequestKind.RestoreServer, RequestKind.Ready],
            requests.Select(r => r.Kind));
        Assert.Equal([null, null, "8080", "8081", null], requests.Select(r => r.Input));
        Assert.Equal(
            [FrameOp.Limits, FrameOp.Execute, FrameOp.Execute, FrameOp.Execute, FrameOp.Ping],
            requests.Select((r, i) => WireText.Split(r.Frame((uint)i + 1).Span)).Select(f => f.Op));
        var (_, id, _) = WireText.Split(requests[1].Frame(9).Span);
        Assert.Equal(9u, id);
    }

    [Fact]
    public void Without_an_init_script_or_servers_only_limits_and_ping_are_sent()
    {
        Assert.Equal([RequestKind.Limits, RequestKind.Ready], ProcessLifecycle.StartupRequests(Limits, "", []).Select(r => r.Kind));
        Assert.Equal([RequestKind.Limits, RequestKind.Ready], ProcessLifecycle.StartupRequests(Limits, null, []).Select(r => r.Kind));
    }

    [Fact]
    public void An_exit_that_overtook_the_start_notice_loses_the_process_at_once_but_not_the_next_one()
    {
        var lifecycle = Lifecycle();
        lifecycle.Starting();
        Assert.Null(lifecycle.Started());
        lifecycle.ExitedBeforeStart(new InstanceExited(2, 127, "exited with code 127"));
        Assert.Equal("process exited with code 127", lifecycle.Started());
        lifecycle.Starting();
        Assert.Null(lifecycle.Started());
    }

    [Fact]
    public void A_loss_during_the_create_fails_it_with_the_stderr_tail_and_costs_no_restart()
    {
        var lifecycle = Lifecycle();
        lifecycle.Stderr("lua5.4: out of memory");
        Assert.Equal(AfterLoss.FailCreation, lifecycle.Lost("process exited with code 1", creating: true).Next);
        Assert.Equal("process exited with code 1; stderr: lua5.4: out of memory", lifecycle.LastError);
        Assert.Equal(0, lifecycle.Restarts.Restarts);
        var answer = lifecycle.DidNotStart("vm1", ErrorKind.Capacity);
        Assert.Equal((ErrorKind.Capacity, "VM 'vm1' did not start: process exited with code 1; stderr: lua5.4: out of memory"), (answer.Kind, answer.Message));

        lifecycle.Lost("again", creating: true);
        Assert.Equal("again", lifecycle.LastError);
    }

    [Fact]
    public void Losses_restart_at_once_then_with_backoff_then_give_up()
    {
        var lifecycle = Lifecycle(maxRestarts: 2);
        Assert.Equal(new LossDecision(AfterLoss.Restart, TimeSpan.Zero, 1), lifecycle.Lost("a", creating: false));
        Assert.Equal(new LossDecision(AfterLoss.Restart, TimeSpan.FromMilliseconds(100), 2), lifecycle.Lost("b", creating: false));
        Assert.Equal(AfterLoss.GiveUp, lifecycle.Lost("c", creating: false).Next);
        Assert.Equal(3, lifecycle.Restarts.Restarts);
    }

    [Fact]
    public void A_start_failure_names_its_kind_and_a_stub_backend_makes_the_vm_not_provisioned()
    {
        var lifecycle = Lifecycle();
        Assert.False(lifecycle.StartFailed(new AggregateException(new IOException("no lua5.4")), out var reason, out var kind));
        Assert.Equal(("could not start the interpreter: no lua5.4", ErrorKind.Crashed), (reason, kind));
        Assert.False(lifecycle.StartFailed(new LuaActors.Process.ResourceExhaustedException("fds"), out _, out kind));
        Assert.Equal(ErrorKind.ResourceExhausted, kind);
        Assert.Null(lifecycle.NotSupported);

        Assert.True(lifecycle.StartFailed(new VmBackendNotSupportedException("xcpng is a stub"), out _, out _));
        Assert.Equal("xcpng is a stub", lifecycle.NotSupported);
    }

    [Fact]
    public void A_failed_init_script_becomes_the_last_error_and_an_InitFailed_answer_with_its_details()
    {
        var lifecycle = Lifecycle();
        var failure = lifecycle.InitFailed("vm1", new RequestFailed("vm1", ErrorKind.Runtime, "boom", "tb", "out", OutputTruncated: true));
        Assert.Equal("init script failed: Runtime: boom", lifecycle.LastError);
        Assert.Equal(new RequestFailed("vm1", ErrorKind.InitFailed, "init script failed: Runtime: boom", "tb", "out", true), failure);
    }

    [Fact]
    public void Uptime_runs_from_the_start_notice()
    {
        var lifecycle = Lifecycle();
        lifecycle.Started();
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1500, lifecycle.UptimeMs());
    }

    [Fact]
    public async Task A_backend_that_throws_at_once_fails_the_start_like_one_that_fails_later()
    {
        var start = ProcessLifecycle.Start(new ThrowingBackend(), new InstanceStart("vm1", 1, Akka.Actor.ActorRefs.Nobody, 0));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => start);
        Assert.Equal("refused", error.Message);
    }

    private sealed class ThrowingBackend : IVmBackend
    {
        public string Type => "throwing";

        public Task<IVmInstance> StartAsync(InstanceStart start) => throw new InvalidOperationException("refused");
    }
}
