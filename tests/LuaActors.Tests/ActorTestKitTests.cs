using Akka.Actor;
using Akka.TestKit.Xunit2;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>The actors driven directly with Akka.TestKit, as an application's own tests would.</summary>
public sealed class ActorTestKitTests() : TestKit(LuaActorsConfig.WithOverrides("akka.loglevel = WARNING"))
{
    private IActorRef StartManager()
    {
        var settings = VmSettings.From(Sys.Settings.Config);
        var factory = Sys.ActorOf(VmFactoryActor.Props(Sys.Settings.Config));
        return Sys.ActorOf(ManagerActor.Props(factory, settings));
    }

    [Fact]
    public async Task A_request_to_a_stopped_vm_is_answered_not_left_to_time_out()
    {
        Sys.ActorOf(UndeliveredRequestsActor.Props());
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
        var manager = StartManager();
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
        var manager = StartManager();
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(VmRestarted));
        manager.Tell(new CreateVm(VmSpec.Basic("tk-2")), TestActor);
        var pid = (await ExpectMsgAsync<VmCreated>(TimeSpan.FromSeconds(20))).Info.ProcessId!.Value;

        LuaProcesses.Kill9(pid);
        var restarted = await events.ExpectMsgAsync<VmRestarted>(TimeSpan.FromSeconds(20));
        Assert.Equal("tk-2", restarted.VmId);
        Assert.Equal(1, restarted.Restarts);

        await AwaitAssertAsync(async () =>
        {
            var info = await manager.Ask<VmInfo>(new GetVmInfo("tk-2"), TimeSpan.FromSeconds(5));
            Assert.Equal(VmState.Running, info.State);
            Assert.NotEqual(pid, info.ProcessId);
        }, TimeSpan.FromSeconds(10));
        manager.Tell(new Execute("tk-2", "return 'back'"), TestActor);
        Assert.Equal("[\"back\"]", (await ExpectMsgAsync<Executed>()).ValuesJson);
    }
}
