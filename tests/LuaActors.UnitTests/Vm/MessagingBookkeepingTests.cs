using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The VM's inbox and its waits, what it sends its owner, its peers and topics.</summary>
public sealed class MessagingBookkeepingTests
{
    private static DeliverMessage Message(string value) => new("vm1", value, "vm2");

    [Fact]
    public void The_inbox_queues_up_to_its_capacity_then_refuses()
    {
        var inbox = new VmInbox(2);
        Assert.True(inbox.TryOffer(Message("1"), out var wait1));
        Assert.True(inbox.TryOffer(Message("2"), out _));
        Assert.False(inbox.TryOffer(Message("3"), out _));
        Assert.Null(wait1);
        Assert.Equal(2, inbox.Count);
    }

    [Fact]
    public void A_message_goes_to_the_oldest_open_wait_before_the_queue()
    {
        var inbox = new VmInbox(1);
        Assert.Null(inbox.Want(7));
        Assert.Null(inbox.Want(8));

        Assert.True(inbox.TryOffer(Message("a"), out var first));
        Assert.True(inbox.TryOffer(Message("b"), out var second));
        Assert.Equal(7u, first);
        Assert.Equal(8u, second);
        Assert.Equal(0, inbox.Count);
    }

    [Fact]
    public void A_wait_takes_a_queued_message_at_once_and_an_abandoned_wait_takes_nothing()
    {
        var inbox = new VmInbox(4);
        inbox.TryOffer(Message("a"), out _);
        Assert.Equal("a", inbox.Want(1)?.ValueJson);

        Assert.Null(inbox.Want(2));
        Assert.True(inbox.Unwant(2));
        Assert.False(inbox.Unwant(2));
        inbox.TryOffer(Message("b"), out var wait);
        Assert.Null(wait);
    }

    [Fact]
    public void A_restart_drops_the_waits_but_keeps_the_messages()
    {
        var inbox = new VmInbox(4);
        inbox.Want(1);
        inbox.DropWaits();
        inbox.TryOffer(Message("kept"), out var wait);
        Assert.Null(wait);
        Assert.True(inbox.TryTake(out var kept));
        Assert.Equal("kept", kept.ValueJson);
    }

    [Fact]
    public void A_value_for_the_owner_answers_the_oldest_wait_else_queues_up_to_the_capacity()
    {
        var mailbox = new HostMailbox();
        var first = new RecordingRef("first");
        var second = new RecordingRef("second");
        var firstWait = mailbox.Wait(first);
        mailbox.Wait(second);

        Assert.Equal((firstWait, first), mailbox.Offer("1", capacity: 1, out var queued1));
        Assert.True(queued1);
        Assert.Same(second, mailbox.Offer("2", capacity: 1, out _)?.ReplyTo);

        Assert.Null(mailbox.Offer("3", capacity: 1, out var queued3));
        Assert.True(queued3);
        Assert.Null(mailbox.Offer("4", capacity: 1, out var queued4));
        Assert.False(queued4);
        Assert.True(mailbox.TryTake(out var taken));
        Assert.Equal("3", taken);
        Assert.False(mailbox.TryTake(out _));
    }

    [Fact]
    public void An_expired_wait_is_answered_once_and_a_stop_answers_the_rest()
    {
        var mailbox = new HostMailbox();
        var late = new RecordingRef("late");
        var stopped = new RecordingRef("stopped");
        var lateWait = mailbox.Wait(late);
        mailbox.Wait(stopped);

        Assert.Same(late, mailbox.Expire(lateWait));
        Assert.Null(mailbox.Expire(lateWait));
        Assert.Equal([stopped], mailbox.DropWaits());
        Assert.Equal(0, mailbox.WaitCount);
    }

    [Fact]
    public void Peers_and_topics_are_sets_kept_in_order()
    {
        var links = new VmLinks();
        links.Link("b");
        links.Link("a");
        links.Link("b");
        links.Subscribe("news");
        links.Subscribe("alerts");
        Assert.Equal(["a", "b"], links.Peers);
        Assert.Equal(["alerts", "news"], links.Topics);

        links.Unlink("a");
        links.Unsubscribe("news");
        links.Unsubscribe("never");
        Assert.Equal(["b"], links.Peers);
        Assert.True(links.IsSubscribed("alerts"));
        Assert.False(links.IsSubscribed("news"));
    }
}
