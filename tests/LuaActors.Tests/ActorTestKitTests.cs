using Akka.Actor;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.TestKit;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The actors driven directly with Akka.TestKit, as an application's own tests would: on
/// LuaActors.TestKit, whose actor system runs LuaActors through Akka.Hosting's WithLuaActors.
/// </summary>
public sealed class ActorTestKitTests() : LuaActorsTestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task A_request_to_a_stopped_vm_is_answered_not_left_to_time_out()
    {
        // WithLuaActors started the undelivered-requests actor; this VM actor has a factory of its own.
        var settings = VmSettings.From(Sys.Settings.Config);
        var factory = Sys.ActorOf(VmFactoryActor.Props(Sys.Settings.Config));
        var vm = Sys.ActorOf(VmActor.Props("tk-gone", factory, settings, new Vm.InMemoryVmSpecStore(), ActorRefs.Nobody));
        vm.Tell(new CreateVm(VmSpec.Basic("tk-gone")), TestActor);
        await ExpectMsgAsync<VmCreated>(TimeSpan.FromSeconds(20));
        Watch(vm);
        vm.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(vm);

        // The request becomes a dead letter; it never ran, and its sender hears so at once.
        vm.Tell(new Execute("tk-gone", "return 1"), TestActor);
        var failed = await ExpectMsgAsync<RequestFailed>();
        Assert.Equal(ErrorKind.Stopped, failed.Kind);
        Assert.True(failed.Undelivered);
    }

    [Fact]
    public async Task Create_execute_and_remove_through_messages()
    {
        var manager = Manager.Manager;
        manager.Tell(new CreateVm(VmSpec.Basic("tk-1", "greeting = 'hi'")), TestActor);
        var created = await ExpectMsgAsync<VmCreated>(TimeSpan.FromSeconds(20));
        Assert.Equal(VmState.Running, created.Info.State);

        manager.Tell(new Execute("tk-1", "return greeting .. '!'"), TestActor);
        var executed = await ExpectMsgAsync<Executed>();
        Assert.Equal("[\"hi!\"]", executed.ValuesJson);

        manager.Tell(new Execute("tk-1", "error('x')"), TestActor);
        Assert.Equal(ErrorKind.Runtime, (await ExpectMsgAsync<RequestFailed>()).Kind);

        manager.Tell(new RemoveVm("tk-1"), TestActor);
        await ExpectMsgAsync<VmRemoved>();
        manager.Tell(new Execute("tk-1", "return 1"), TestActor);
        Assert.Equal(ErrorKind.NotFound, (await ExpectMsgAsync<RequestFailed>()).Kind);
    }

    [Fact]
    public async Task A_killed_process_is_restarted_and_announced_on_the_event_stream()
    {
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(VmRestarted));
        var vm = await CreateVmAsync(initScript: "started = (started or 0) + 1", vmId: "tk-2");
        var pid = await LuaProcesses.PidAsync(vm);

        LuaProcesses.Kill9(pid);
        var restarted = await events.ExpectMsgAsync<VmRestarted>(TimeSpan.FromSeconds(20));
        Assert.Equal("tk-2", restarted.VmId);
        Assert.Equal(1, restarted.Restarts);

        await LuaProcesses.NewPidAsync(vm, pid);
        // A new process: the init script ran once in it, the old state is gone.
        await AssertLuaAsync(vm, "return started", 1);
    }

    [Fact]
    public async Task The_embedding_api_and_the_assertions_work_on_the_testkits_system()
    {
        var vm = await CreateVmAsync("function f(x) return 2 * x end");

        await AssertLuaAsync(vm, "return f(2)", 4);
        await AssertLuaAsync(vm, "return f(2.5)", 5.0);
        await AssertLuaErrorAsync(vm, "return f('x')", ErrorKind.Runtime, "attempt to mul");
        await Assert.ThrowsAsync<LuaAssertException>(() => AssertLuaAsync(vm, "return f(2)", 5));
        Assert.Same(Sys, Manager.System);
    }
}

/// <summary>What LuaActors.TestKit does when a test ends: no VM process outlives it.</summary>
public sealed class TestKitCleanupTests
{
    private sealed class Kit() : LuaActorsTestKit("akka.loglevel = WARNING");

    [Fact]
    public async Task Every_vm_process_is_gone_when_the_test_ends()
    {
        var kit = new Kit();
        int[] pids;
        try
        {
            var vms = new[] { await kit.Manager.CreateVmAsync("a"), await kit.Manager.CreateVmAsync("b", new VmOptions { InitScript = "x = 1" }) };
            pids = await Task.WhenAll(vms.Select(LuaProcesses.PidAsync));
            Assert.All(pids, pid => Assert.True(LuaProcesses.IsAlive(pid)));
        }
        finally
        {
            await kit.DisposeAsync();
        }

        Assert.True(kit.Sys.WhenTerminated.IsCompleted);
        Assert.All(pids, pid => Assert.False(LuaProcesses.IsAlive(pid), $"VM process {pid} outlived the test"));
    }

    [Fact]
    public async Task Hocon_given_to_the_testkit_reaches_luaactors()
    {
        var kit = new SettingsKit();
        try
        {
            Assert.Equal(TimeSpan.FromMilliseconds(1500), kit.Manager.DefaultTimeout);
            Assert.True(kit.Configured);
        }
        finally
        {
            await kit.DisposeAsync();
        }
    }

    private sealed class SettingsKit() : LuaActorsTestKit("luaactors.vm.default-timeout = 1500ms")
    {
        public bool Configured { get; private set; }

        protected override void ConfigureLuaActors(Akka.Hosting.AkkaConfigurationBuilder builder)
        {
            Configured = true;
            base.ConfigureLuaActors(builder);
        }
    }
}
