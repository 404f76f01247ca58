using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Interactive sessions: REPL lines, continuation, several sessions, detach, restarts, removal.</summary>
public sealed class SessionTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Pull_style_like_the_old_library()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"));
        await using var session = await fixture.Manager.AttachAsync(vm.Id);
        await session.SendInputAsync("x = 42");
        await session.SendInputAsync("print(x)");
        Assert.Equal("42\n", await session.ReadOutputAsync(Wait));
        await session.SendInputAsync("x + 1, 'text'");
        Assert.Equal("43\ttext\n", await session.ReadOutputAsync(Wait));
        await session.SendInputAsync("error('oops')");
        Assert.Contains("oops", await session.ReadOutputAsync(Wait));
    }

    [Fact]
    public async Task Unfinished_chunks_wait_for_more_lines()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"));
        await using var session = await fixture.Manager.AttachAsync(vm.Id);
        // Each unfinished line is answered as incomplete (the continuation prompt), with nothing
        // run yet; the chunk so far is read again with the next line.
        await session.SendInputAsync("function f(n)");
        Assert.True((await session.NextOwnInputAsync("function f(n)", Wait)).Incomplete);
        await session.SendInputAsync("  return n * 2");
        Assert.True((await session.NextOwnInputAsync("function f(n)\n  return n * 2", Wait)).Incomplete);
        Assert.Equal("[true]", (await vm.ExecuteAsync("return f == nil")).ValuesJson);

        // The line that completes the chunk runs all of it.
        await session.SendInputAsync("end");
        var completed = await session.NextOwnInputAsync("function f(n)\n  return n * 2\nend", Wait);
        Assert.False(completed.Incomplete);
        Assert.Null(completed.Error);
        Assert.Null(completed.ValuesJson);
        await session.SendInputAsync("f(21)");
        Assert.Equal("42\n", await session.ReadOutputAsync(Wait));
        Assert.Equal(42, await vm.ExecuteAsync<long>("return f(21)"));
    }

    [Fact]
    public async Task Two_sessions_see_each_others_input_and_detaching_one_leaves_the_other()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"));
        var alice = await fixture.Manager.AttachAsync(vm.Id);
        await using var bob = await fixture.Manager.AttachAsync(vm.Id);
        Assert.Equal(new[] { alice.SessionId, bob.SessionId }.Order(), ((await vm.GetInfoAsync()).Sessions ?? []).Order());

        await alice.SendInputAsync("shared = 'from alice'");
        var assigned = await alice.NextOwnInputAsync("shared = 'from alice'", Wait);
        Assert.False(assigned.Incomplete);
        Assert.Equal("", assigned.Output);
        Assert.Null(assigned.ValuesJson);
        Assert.Null(assigned.Error);
        await bob.SendInputAsync("print(shared)");
        Assert.Equal($"[{alice.SessionId}] > shared = 'from alice'\nfrom alice\n", await bob.ReadOutputAsync(Wait));
        Assert.Equal($"[{bob.SessionId}] > print(shared)\nfrom alice\n", await alice.ReadOutputAsync(Wait));

        await alice.DetachAsync();
        await bob.SendInputAsync("1 + 1");
        Assert.Equal("2\n", await bob.ReadOutputAsync(Wait));
        Assert.Equal([bob.SessionId], (await vm.GetInfoAsync()).Sessions);
    }

    [Fact]
    public async Task Push_style_events_report_restarts_and_removal()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"));
        var session = await fixture.Manager.AttachAsync(vm.Id);
        await using var events = session.Events().GetAsyncEnumerator();

        await session.SendInputAsync("1 + 1");
        Assert.True(await events.MoveNextAsync());
        var evaluated = Assert.IsType<SessionInputEvaluated>(events.Current);
        Assert.Equal("[2]", evaluated.ValuesJson);
        Assert.Equal(session.SessionId, evaluated.FromSession);

        LuaProcesses.Kill9((await vm.GetInfoAsync()).ProcessId!.Value);
        Assert.True(await events.MoveNextAsync());
        Assert.IsType<VmRestarted>(events.Current);

        await vm.RemoveAsync();
        Assert.True(await events.MoveNextAsync());
        Assert.IsType<VmStopped>(events.Current);
        Assert.False(await events.MoveNextAsync());
    }

    [Fact]
    public async Task A_session_whose_client_died_is_cleaned_up()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"));
        var session = await fixture.Manager.AttachAsync(vm.Id);
        Assert.Equal([session.SessionId], (await vm.GetInfoAsync()).Sessions);
        var actor = await fixture.Manager.System.ActorSelection($"/user/session-{session.SessionId}").ResolveOne(Wait);
        fixture.Manager.System.Stop(actor);
        await TestCluster.WaitUntilAsync(() => vm.GetInfoAsync().Result.Sessions is [], Wait, "the dead session was not dropped");
    }

    [Fact]
    public async Task Interrupt_stops_the_running_chunk_and_keeps_the_state()
    {
        var vm = await fixture.Manager.CreateVmAsync(ManagerFixture.NewId("session"), new VmOptions { Limits = new VmLimits(TimeoutMs: 60_000) });
        await using var session = await fixture.Manager.AttachAsync(vm.Id);
        await session.SendInputAsync("kept = 'yes'");
        Assert.Null((await session.NextOwnInputAsync("kept = 'yes'", Wait)).Error);
        await session.SendInputAsync("while true do end");
        await TestCluster.WaitUntilAsync(() => vm.GetInfoAsync().Result.PendingRequests > 0, Wait, "the loop never started");
        await session.InterruptAsync();
        Assert.Contains("interrupted", await session.ReadOutputAsync(Wait));
        await session.SendInputAsync("kept");
        Assert.Equal("yes\n", await session.ReadOutputAsync(Wait));
        Assert.Equal(0, (await vm.GetInfoAsync()).Restarts);
    }

    [Fact]
    public async Task Attaching_to_an_unknown_vm_fails()
    {
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.AttachAsync("no-such-vm"));
    }
}
