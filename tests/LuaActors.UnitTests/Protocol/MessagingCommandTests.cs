using LuaActors.Messages;

namespace LuaActors.UnitTests.Protocol;

/// <summary>The commands the VM actor serves from its own state carry <see cref="IVmMessagingCommand"/>.</summary>
public sealed class MessagingCommandTests
{
    [Fact]
    public void Inbox_peer_topic_and_host_commands_are_messaging_commands()
    {
        var marked = typeof(IVmMessagingCommand).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IVmMessagingCommand).IsAssignableFrom(t))
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(
            ["DeliverMessage", "LinkPeer", "ReceiveFromVm", "SubscribeTopic", "UnlinkPeer", "UnsubscribeTopic"],
            marked);
    }

    [Fact]
    public void Commands_that_need_the_process_are_not()
    {
        IVmCommand[] needProcess = [new Execute("vm", "return 1"), new PingVm("vm"), new ResetVm("vm"), new SendSessionInput("vm", "s", "1")];
        Assert.DoesNotContain(needProcess, c => c is IVmMessagingCommand);
    }
}
