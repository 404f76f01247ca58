using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Cluster;

/// <summary>
/// Carries one request through the shard region and its reply back, so the node's manager
/// learns where each VM lives and can fail the request with a typed error if that node is
/// lost while the request is in flight (a message sent to a dead node gets no reply at all).
/// </summary>
internal sealed class RequestRelayActor : ReceiveActor
{
    /// <summary>The VM's node was lost: answer the asker with this instead.</summary>
    public sealed record Abort(RequestFailed Failure);

    /// <summary>To the parent: the request is answered; <see cref="VmNode"/> is where the VM answered from.</summary>
    public sealed record Finished(string VmId, Address? VmNode);

    public RequestRelayActor(IActorRef replyTo, string vmId, Address selfAddress, TimeSpan maxWait)
    {
        // Only a leak guard: the asker's own timeout is what the caller sees.
        SetReceiveTimeout(maxWait);
        Receive<Abort>(abort => Finish(replyTo, abort.Failure, vmId, null));
        Receive<ReceiveTimeout>(_ => Finish(ActorRefs.Nobody, null, vmId, null));
        ReceiveAny(reply =>
        {
            var from = Sender.Path.Address;
            Finish(replyTo, reply, vmId, from.HasLocalScope ? selfAddress : from);
        });
    }

    public static Props Props(IActorRef replyTo, string vmId, Address selfAddress, TimeSpan maxWait) =>
        Akka.Actor.Props.Create(() => new RequestRelayActor(replyTo, vmId, selfAddress, maxWait));

    private void Finish(IActorRef replyTo, object? reply, string vmId, Address? vmNode)
    {
        if (reply is not null)
        {
            replyTo.Tell(reply);
        }

        Context.Parent.Tell(new Finished(vmId, vmNode));
        Context.Stop(Self);
    }
}
