namespace LuaActors.Messages;

/// <summary>
/// A command about the VM's inbox, peers, topics or its messages to the host. These belong to
/// the VM's actor, not its process: the actor serves them whatever the process is doing
/// (starting, restarting), without queueing them behind the process's requests.
/// </summary>
public interface IVmMessagingCommand : IVmCommand;

/// <summary>
/// Put one message into a VM's bounded inbox, where <c>vm.receive</c> takes it
/// (docs/protocol.md §11.5). Sent by a VM's <c>vm.send</c>/<c>vm.broadcast</c> (with
/// <see cref="From"/>) or by C#'s <c>SendAsync</c> (without). The reply is
/// <see cref="MessageAccepted"/>, or <see cref="RequestFailed"/> with
/// <see cref="ErrorKind.InboxFull"/> or <see cref="ErrorKind.NotFound"/>: a message is never
/// dropped silently.
/// </summary>
/// <param name="ValueJson">One value in the VM's JSON encoding (docs/protocol.md §7).</param>
/// <param name="Topic">Set when the message was published on a topic and is being moved with its VM to another node.</param>
public sealed record DeliverMessage(string VmId, string ValueJson, string? From = null, string? Topic = null) : IVmMessagingCommand;

/// <summary>The message is in the inbox (or already handed to a waiting <c>vm.receive</c>).</summary>
public sealed record MessageAccepted(string VmId, int InboxCount) : ILuaActorsMessage;

/// <summary>
/// A value published on a topic (<c>vm.publish</c> or C#'s <c>PublishAsync</c>), as every
/// subscribed VM's actor receives it through the topic mediator.
/// </summary>
public sealed record MessagePublished(string Topic, string ValueJson, string? From = null) : ILuaActorsMessage;

/// <summary>Make <see cref="PeerId"/> one of the VM's peers (<c>vm.peers</c>, <c>vm.broadcast</c>).</summary>
public sealed record LinkPeer(string VmId, string PeerId) : IVmMessagingCommand;

public sealed record PeerLinked(string VmId, string PeerId) : ILuaActorsMessage;

public sealed record UnlinkPeer(string VmId, string PeerId) : IVmMessagingCommand;

public sealed record PeerUnlinked(string VmId, string PeerId) : ILuaActorsMessage;

/// <summary>
/// Subscribe the VM to a topic, as its own <c>vm.subscribe</c> does. Subscriptions belong to the
/// VM's actor: they survive process restarts and resets and move with the VM on a hand-over.
/// </summary>
public sealed record SubscribeTopic(string VmId, string Topic) : IVmMessagingCommand;

public sealed record TopicSubscribed(string VmId, string Topic) : ILuaActorsMessage;

public sealed record UnsubscribeTopic(string VmId, string Topic) : IVmMessagingCommand;

public sealed record TopicUnsubscribed(string VmId, string Topic) : ILuaActorsMessage;

/// <summary>
/// Take the next value the VM sent to its host with <c>vm.send('$host', value)</c> (the socket
/// helpers send what their connections receive this way), waiting up to <see cref="WaitMs"/>.
/// </summary>
public sealed record ReceiveFromVm(string VmId, int WaitMs) : IVmMessagingCommand;

/// <summary>The value, or null when nothing came within the wait.</summary>
public sealed record ReceivedFromVm(string VmId, string? ValueJson) : ILuaActorsMessage;
