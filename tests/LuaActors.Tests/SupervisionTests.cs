using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Crashes, restarts, giving up, and no process outliving its owner.</summary>
public sealed class SupervisionTests
{
    [Fact]
    public async Task Kill_9_during_a_request_fails_it_with_VmCrashed_and_the_vm_comes_back()
    {
        await using var manager = await ManagerFixture.StartAsync();
        var vm = await manager.CreateVmAsync("victim", new VmOptions { InitScript = "init_runs = (init_runs or 0) + 1" });
        await vm.ExecuteAsync("lost = 'yes'");
        var pid = await LuaProcesses.PidAsync(vm);

        var running = vm.ExecuteAsync("started = true while true do end", new ExecuteOptions(TimeoutMs: 60_000));
        var queued = vm.ExecuteAsync("return 'queued'", new ExecuteOptions(TimeoutMs: 60_000));
        // The request is in flight once the VM reports it pending.
        await Eventually.TrueAsync(async () => (await vm.GetInfoAsync()).PendingRequests >= 2, TimeSpan.FromSeconds(20), "both requests pending");

        LuaProcesses.Kill9(pid);
        var crashed = await Assert.ThrowsAsync<VmCrashedException>(() => running);
        Assert.Equal(ErrorKind.Crashed, crashed.Kind);
        Assert.Contains("signal 9", crashed.Message);
        await Assert.ThrowsAsync<VmCrashedException>(() => queued);

        // The next request is served by a new process, after the init script ran again.
        var after = await vm.ExecuteAsync("return init_runs, lost");
        Assert.Equal("[1,null]", after.ValuesJson);
        var info = await vm.GetInfoAsync();
        Assert.Equal(1, info.Restarts);
        Assert.NotEqual(pid, info.ProcessId);
        await LuaProcesses.AssertGoneAsync([pid]);
    }

    [Fact]
    public async Task Requests_sent_while_restarting_wait_and_succeed()
    {
        await using var manager = await ManagerFixture.StartAsync("luaactors.vm.restart.base-backoff = 300ms");
        var vm = await manager.CreateVmAsync("buffered");
        // First restart is immediate; the second waits the base backoff, long enough to queue requests.
        var first = await LuaProcesses.PidAsync(vm);
        LuaProcesses.Kill9(first);
        var second = await LuaProcesses.NewPidAsync(vm, first);
        await vm.ExecuteAsync("return 1");
        LuaProcesses.Kill9(await LuaProcesses.PidAsync(vm));
        // Requests already written to the dead process fail; wait until the actor knows, then queue.
        await Eventually.TrueAsync(async () => (await vm.GetInfoAsync()).State == VmState.Restarting,
            TimeSpan.FromSeconds(20), "the VM restarting", every: TimeSpan.FromMilliseconds(5));

        var during = Enumerable.Range(0, 20).Select(i => vm.ExecuteAsync<long>($"return {i}")).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i).ToArray(), await Task.WhenAll(during));
        Assert.NotEqual(second, await LuaProcesses.PidAsync(vm));
    }

    [Fact]
    public async Task Too_many_restarts_within_the_window_stop_the_vm_as_failed()
    {
        await using var manager = await ManagerFixture.StartAsync("""
            luaactors.vm.restart.max-restarts = 2
            luaactors.vm.restart.within = 60s
            luaactors.vm.restart.base-backoff = 10ms
            """);
        var vm = await manager.CreateVmAsync("fragile");
        var gaveUp = new TaskCompletionSource<VmGaveUp>();
        var listener = manager.System.ActorOf(Akka.Actor.Props.Create(() => new EventProbe<VmGaveUp>(gaveUp)));
        manager.System.EventStream.Subscribe(listener, typeof(VmGaveUp));

        var pid = await LuaProcesses.PidAsync(vm);
        for (var i = 0; i < 2; i++)
        {
            LuaProcesses.Kill9(pid);
            pid = await LuaProcesses.NewPidAsync(vm, pid);
        }

        LuaProcesses.Kill9(pid);
        var failed = await gaveUp.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("fragile", failed.VmId);
        var info = await vm.GetInfoAsync();
        Assert.Equal(VmState.Failed, info.State);
        Assert.Null(info.ProcessId);
        var error = await Assert.ThrowsAsync<VmUnavailableException>(() => vm.ExecuteAsync("return 1"));
        Assert.Equal(ErrorKind.VmFailed, error.Kind);

        // A failed VM can be removed and created again.
        await vm.RemoveAsync();
        var again = await manager.CreateVmAsync("fragile");
        Assert.Equal(1, await again.ExecuteAsync<long>("return 1"));
    }

    [Fact]
    public async Task No_process_outlives_the_manager()
    {
        var manager = await ManagerFixture.StartAsync();
        var pids = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            pids.Add(await LuaProcesses.PidAsync(await manager.CreateVmAsync($"short-lived-{i}")));
        }

        Assert.All(pids, pid => Assert.True(LuaProcesses.IsAlive(pid)));
        await manager.DisposeAsync();
        await LuaProcesses.AssertGoneAsync(pids);
    }

    [Fact]
    public async Task Terminating_the_actor_system_kills_every_process()
    {
        var manager = await ManagerFixture.StartAsync();
        var pids = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            pids.Add(await LuaProcesses.PidAsync(await manager.CreateVmAsync($"vm-{i}")));
        }

        await manager.System.Terminate();
        await LuaProcesses.AssertGoneAsync(pids);
    }

    [Fact]
    public async Task A_crashed_vm_takes_a_spare_process_and_spares_die_with_the_manager()
    {
        // A type of its own whose command line (-W) tells its processes from other tests' VMs.
        var manager = await ManagerFixture.StartAsync("""
            luaactors.vm-types.spared { backend = process, executable = lua5.4, arguments = ["-W", "-E"], spare-processes = 1 }
            """);
        var vm = await manager.CreateVmAsync("spared", new VmOptions { Type = "spared" });
        var pid = await LuaProcesses.PidAsync(vm);
        static IReadOnlyList<int> Ours() => LuaProcesses.StartedBy(Environment.ProcessId)
            .Where(p => File.ReadAllText($"/proc/{p}/cmdline").Split('\0').Contains("-W")).ToList();

        // The pool fills after the type's first VM: wait for a lua5.4 child that is not the VM.
        IReadOnlyList<int> before = [];
        await Eventually.TrueAsync(() =>
        {
            before = Ours();
            return Task.FromResult(before.Any(p => p != pid));
        }, TimeSpan.FromSeconds(20), "a spare process started");

        LuaProcesses.Kill9(pid);
        var newPid = await LuaProcesses.NewPidAsync(vm, pid);
        // The replacement was already running before the kill: a spare, not a new start ...
        Assert.Contains(newPid, before);
        // ... and it got the VM's limits and state from scratch like any new process.
        Assert.Equal(2, await vm.ExecuteAsync<long>("return 1 + 1"));
        var limit = File.ReadLines($"/proc/{newPid}/limits").Single(l => l.StartsWith("Max address space", StringComparison.Ordinal));
        Assert.Equal("134217728", limit["Max address space".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);

        // A new spare replaces the one taken; stopping the manager kills it with the VM.
        IReadOnlyList<int> after = [];
        await Eventually.TrueAsync(() =>
        {
            after = Ours().Where(p => !before.Contains(p)).ToList();
            return Task.FromResult(after.Count > 0);
        }, TimeSpan.FromSeconds(20), "the pool refilled");
        await manager.DisposeAsync();
        await LuaProcesses.AssertGoneAsync([newPid, .. after]);
    }

    /// <summary>Completes a task with the first event of type <typeparamref name="T"/>.</summary>
    private sealed class EventProbe<T> : Akka.Actor.ReceiveActor
    {
        public EventProbe(TaskCompletionSource<T> first) => Receive<T>(e => first.TrySetResult(e));
    }
}
