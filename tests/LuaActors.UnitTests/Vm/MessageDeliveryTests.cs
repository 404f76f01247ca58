using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Messaging;

namespace LuaActors.UnitTests.Vm;

/// <summary>What <c>vm.send</c> and <c>vm.broadcast</c> return for each answer of the target's actor.</summary>
public sealed class MessageDeliveryTests
{
    private static MessageDelivery Answering(Func<DeliverMessage, object> answer) =>
        new("vm1", message => Task.FromResult(answer(message)), TimeSpan.FromSeconds(2));

    [Fact]
    public async Task A_send_names_what_stopped_it()
    {
        var sent = new List<DeliverMessage>();
        var accepted = Answering(m => { sent.Add(m); return new MessageAccepted(m.VmId, 1); });
        Assert.Equal((true, ""), await accepted.Deliver("vm2", "1"));
        Assert.Equal([new DeliverMessage("vm2", "1", "vm1")], sent);

        Assert.Equal((false, "unknown target 'vm2'"),
            await Answering(m => new RequestFailed(m.VmId, ErrorKind.NotFound, "no")).Deliver("vm2", "1"));
        Assert.Equal((false, "inbox full: vm2 (3 messages)"),
            await Answering(m => new RequestFailed(m.VmId, ErrorKind.InboxFull, "inbox full: vm2 (3 messages)")).Deliver("vm2", "1"));
        Assert.Equal((false, "cannot deliver to 'vm2': Crashed: gone"),
            await Answering(m => new RequestFailed(m.VmId, ErrorKind.Crashed, "gone")).Deliver("vm2", "1"));
        Assert.Equal((false, "cannot deliver to 'vm2': unexpected answer String"),
            await Answering(_ => "?").Deliver("vm2", "1"));
        Assert.Equal((false, "cannot deliver to 'vm2': no answer within 2 s"),
            await Answering(_ => throw new AskTimeoutException("late")).Deliver("vm2", "1"));
    }

    [Fact]
    public async Task A_broadcast_counts_the_peers_or_names_each_that_did_not_take_it()
    {
        var some = Answering(m => m.VmId == "b"
            ? new RequestFailed("b", ErrorKind.NotFound, "no")
            : new MessageAccepted(m.VmId, 1));
        Assert.Equal((true, "2"), await Answering(m => new MessageAccepted(m.VmId, 1)).Broadcast(["a", "c"], "1"));
        Assert.Equal((false, "delivered to 2 of 3 peers; unknown target 'b'"), await some.Broadcast(["a", "b", "c"], "1"));
        Assert.Equal((true, "0"), await some.Broadcast([], "1"));
    }
}
