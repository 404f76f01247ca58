using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The refusals of a VM's actor: kinds, words, and which ones the manager may send on.</summary>
public sealed class VmAnswersTests
{
    private readonly VmAnswers _answers = new("vm1", TimeSpan.FromMilliseconds(250));
    private readonly RecordingRef _asker = new("asker");

    [Fact]
    public void Only_a_vm_that_is_going_away_lets_the_manager_send_the_request_on()
    {
        Assert.Equal(new RequestFailed("vm1", ErrorKind.Stopped, "VM 'vm1' is being removed", Undelivered: true), _answers.BeingRemoved());
        Assert.Equal(new RequestFailed("vm1", ErrorKind.Stopped, "VM 'vm1' is moving to another node", Undelivered: true), _answers.Moving());
        Assert.All(
            [_answers.NotRegistered(), _answers.AlreadyExists(), _answers.Stopped(), _answers.LookupFailed("db"),
                _answers.TooManyWaiting(3), _answers.GaveUp(5, "x"), _answers.NotSupported(null), _answers.Invalid("bad")],
            answer => Assert.False(answer.Undelivered));
    }

    [Fact]
    public void Each_refusal_has_its_kind_and_names_the_vm()
    {
        Assert.Equal((ErrorKind.NotFound, "no VM with id 'vm1'"), Of(_answers.NotRegistered()));
        Assert.Equal((ErrorKind.NotFound, "VM 'vm1' could not be looked up: db down"), Of(_answers.LookupFailed("db down")));
        Assert.Equal((ErrorKind.AlreadyExists, "a VM with id 'vm1' already exists"), Of(_answers.AlreadyExists()));
        Assert.Equal((ErrorKind.Overloaded, "3 requests already wait for VM 'vm1' to start"), Of(_answers.TooManyWaiting(3)));
        Assert.Equal((ErrorKind.VmFailed, "VM 'vm1' gave up after 5 restarts (last: oom); remove and re-create it"), Of(_answers.GaveUp(5, "oom")));
        Assert.Equal((ErrorKind.NotSupported, "not supported"), Of(_answers.NotSupported(null)));
        Assert.Equal((ErrorKind.NotSupported, "stub"), Of(_answers.NotSupported("stub")));
        Assert.Equal((ErrorKind.InvalidRequest, "bad"), Of(_answers.Invalid("bad")));
    }

    [Fact]
    public void A_lost_process_times_out_the_request_it_was_killed_for_and_crashes_the_others()
    {
        var pending = new PendingRequest(4, RequestKind.Execute, _asker, 1000);
        Assert.Equal(
            (ErrorKind.Timeout, "timeout: the request ran past its 1000 ms limit and the 250 ms grace (stuck in a C function?); the VM was restarted"),
            Of(_answers.Abandoned(pending, timedOut: true, "killed")));
        Assert.Equal((ErrorKind.Crashed, "VM 'vm1' crashed: process exited; it restarts"), Of(_answers.Abandoned(pending, timedOut: false, "process exited")));
        Assert.Equal("request 4 still ran 1300 ms after it started (limit 1000 ms + 250 ms grace): killed",
            _answers.Overdue(pending, TimeSpan.FromMilliseconds(1300)));
    }

    [Fact]
    public void Waiting_requests_are_bounded_kept_in_order_and_answered_all_at_once()
    {
        var waiting = new WaitingRequests(2);
        var (first, second, third) = (new RecordingRef("a"), new RecordingRef("b"), new RecordingRef("c"));
        Assert.True(waiting.TryAdd(new PingVm("vm1"), first));
        Assert.True(waiting.TryAdd(new ResetVm("vm1"), second));
        Assert.False(waiting.TryAdd(new PingVm("vm1"), third));
        waiting.Requeue(new SendSessionInput("vm1", "s", "x = 1"), third);
        Assert.Equal(3, waiting.Count);

        Assert.True(waiting.TryTake(out var oldest));
        Assert.Equal((new PingVm("vm1"), (Akka.Actor.IActorRef)first), (oldest.Command, oldest.Sender));
        Assert.Equal([second, third], waiting.TakeAll());
        Assert.Equal(0, waiting.Count);
        Assert.False(waiting.TryTake(out _));
    }

    private static (ErrorKind, string) Of(RequestFailed failed)
    {
        Assert.Equal("vm1", failed.VmId);
        return (failed.Kind, failed.Message);
    }
}
