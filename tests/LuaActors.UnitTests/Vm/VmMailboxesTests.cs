using System.Text;
using LuaActors.Messages;
using LuaActors.Protocol;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The VM's messaging state as its actor drives it: answers, frames for the VM, the hand-over.</summary>
public sealed class VmMailboxesTests
{
    private static VmMailboxes Opened(int capacity)
    {
        var mail = new VmMailboxes("vm1", defaultCapacity: 99);
        mail.Open(capacity);
        return mail;
    }

    private static string Text(HostFrame? frame)
    {
        Assert.NotNull(frame);
        var text = Encoding.UTF8.GetString(frame.Value.Span);
        frame.Value.Release();
        return text;
    }

    [Fact]
    public void A_delivery_is_accepted_until_the_inbox_is_full_then_refused_as_InboxFull()
    {
        var mail = Opened(1);
        Assert.Equal(new MessageAccepted("vm1", 1), mail.Accept(new DeliverMessage("vm1", "1", "vm2"), out var none));
        Assert.Null(none);

        var refused = Assert.IsType<RequestFailed>(mail.Accept(new DeliverMessage("vm1", "2", "vm2"), out _));
        Assert.Equal(ErrorKind.InboxFull, refused.Kind);
        Assert.Contains("(1 messages)", refused.Message);
    }

    [Fact]
    public void A_delivery_answers_an_open_wait_with_a_frame_for_the_VM()
    {
        var mail = Opened(1);
        Assert.Null(mail.Want(5));
        mail.Accept(new DeliverMessage("vm1", "\"hi\"", "vm2"), out var toVm);
        Assert.Equal(Text(HostFrames.Deliver(5, "vm2", null, "\"hi\"")), Text(toVm));
        Assert.Equal(0, mail.InboxCount);
    }

    [Fact]
    public void A_wait_takes_a_queued_message_and_an_abandoned_wait_is_answered_no_message_once()
    {
        var mail = Opened(2);
        mail.Accept(new DeliverMessage("vm1", "1", "vm2"), out _);
        Assert.Equal(Text(HostFrames.Deliver(3, "vm2", null, "1")), Text(mail.Want(3)));

        Assert.Null(mail.Want(4));
        Assert.Equal(Text(HostFrames.NoMessage(4)), Text(mail.Unwant(4)));
        Assert.Null(mail.Unwant(4));
    }

    [Fact]
    public void Publications_reach_only_subscribed_topics_and_a_full_inbox_counts_the_dropped()
    {
        var mail = Opened(1);
        Assert.True(mail.AcceptPublished(new MessagePublished("news", "1", "vm2"), out _));
        Assert.Equal(0, mail.InboxCount);

        mail.Links.Subscribe("news");
        Assert.True(mail.AcceptPublished(new MessagePublished("news", "1", "vm2"), out _));
        Assert.False(mail.AcceptPublished(new MessagePublished("news", "2", "vm2"), out _));
        Assert.Equal(1, mail.InboxCount);
        Assert.Equal(1, mail.DroppedPublications);
    }

    [Fact]
    public void Values_for_the_owner_are_bounded_by_the_inbox_capacity_or_the_default_before_it_opens()
    {
        var closed = new VmMailboxes("vm1", defaultCapacity: 1);
        closed.OfferToHost("1", out var first);
        closed.OfferToHost("2", out var second);
        Assert.True(first);
        Assert.False(second);
        Assert.Contains("(1 messages nobody took", closed.HostInboxFull());

        var mail = Opened(2);
        var waiter = new RecordingRef("owner");
        var waitId = mail.ToHost.Wait(waiter);
        Assert.Equal((waitId, waiter), mail.OfferToHost("x", out var queued));
        Assert.True(queued);
    }

    [Fact]
    public void The_owner_receives_a_queued_value_at_once_none_when_it_does_not_wait_else_it_waits()
    {
        var mail = Opened(2);
        var owner = new RecordingRef("owner");
        Assert.Equal(new ReceivedFromVm("vm1", null), mail.Receive(new ReceiveFromVm("vm1", 0), owner, out _));
        Assert.Null(mail.Receive(new ReceiveFromVm("vm1", 500), owner, out var waitId));
        Assert.Equal(1, mail.ToHost.WaitCount);
        Assert.Equal((waitId, owner), mail.OfferToHost("1", out _));

        mail.OfferToHost("2", out _);
        Assert.Equal(new ReceivedFromVm("vm1", "2"), mail.Receive(new ReceiveFromVm("vm1", 500), owner, out _));
    }

    [Fact]
    public void A_hand_over_rebuilds_messages_peers_and_topics_in_order_and_empties_the_inbox()
    {
        var mail = Opened(4);
        mail.Accept(new DeliverMessage("vm1", "1", "vm2"), out _);
        mail.Accept(new DeliverMessage("vm1", "2", "vm3", "news"), out _);
        mail.Links.Link("vm3");
        mail.Links.Subscribe("news");

        Assert.Equal(
            [
                new DeliverMessage("vm1", "1", "vm2"),
                new DeliverMessage("vm1", "2", "vm3", "news"),
                new LinkPeer("vm1", "vm3"),
                new SubscribeTopic("vm1", "news"),
            ],
            mail.HandOver().ToList());
        Assert.Equal(0, mail.InboxCount);
        Assert.Empty(new VmMailboxes("vm1", 1).HandOver());
    }
}
