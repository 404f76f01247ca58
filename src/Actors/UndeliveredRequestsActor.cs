using Akka.Actor;
using Akka.Event;
using LuaActors.Messages;

namespace LuaActors;

/// <summary>
/// Answers requests that died as dead letters instead of letting their senders wait out their
/// timeouts. A VM command becomes a dead letter when it reaches a VM actor that has just
/// stopped, or, in a cluster, a shard that is handing its VMs over to another node (Akka.NET's
/// shard region forwards into a stopping shard: akka.net#8501). Such a request never ran, so it
/// is answered <see cref="ErrorKind.Stopped"/> with <see cref="RequestFailed.Undelivered"/> set:
/// the cluster manager sends it again, other callers get a typed error. One per actor system.
/// </summary>
public sealed class UndeliveredRequestsActor : ReceiveActor
{
    public UndeliveredRequestsActor()
    {
        Receive<DeadLetter>(dead =>
        {
            if (dead.Message is IVmCommand command
                && dead.Sender is { } sender && !sender.IsNobody() && !sender.Equals(Context.System.DeadLetters))
            {
                sender.Tell(new RequestFailed(command.VmId, ErrorKind.Stopped,
                    $"VM '{command.VmId}' was stopping or moving to another node when the request reached it; it did not run: retry",
                    Undelivered: true));
            }
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new UndeliveredRequestsActor());

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
