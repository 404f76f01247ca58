using Akka.Actor;

namespace LuaActors.Cluster;

/// <summary>
/// One request a <see cref="ShardedManagerActor"/> sent into the shard region, and the sender
/// its reply comes back to: a temporary actor ref like the one behind <c>Ask</c> (no actor,
/// no mailbox, addressable from other nodes), so the manager learns where its VM lives and can
/// fail the request with <c>NodeLost</c> if that node is lost while it is in flight. (A child
/// actor per request, as before, cost an actor's creation and stop on every call.)
/// <para>
/// The reply arrives on whatever thread delivers it, while the manager may be aborting the
/// request: <see cref="TryFinish"/> lets exactly one of them answer.
/// </para>
/// </summary>
internal sealed class RelayedRequest : MinimalActorRef
{
    private readonly Action<RelayedRequest, IActorRef?> _answered;
    private int _finished;

    /// <param name="answered">Called once the reply went on, with the VM's reply's sender.</param>
    public RelayedRequest(IActorRefProvider provider, IActorRef replyTo, string vmId, long deadline, Action<RelayedRequest, IActorRef?> answered)
    {
        Provider = provider;
        Path = provider.TempPath();
        ReplyTo = replyTo;
        VmId = vmId;
        Deadline = deadline;
        _answered = answered;
        provider.RegisterTempActor(this, Path);
    }

    public override ActorPath Path { get; }

    public override IActorRefProvider Provider { get; }

    public IActorRef ReplyTo { get; }

    public string VmId { get; }

    /// <summary>Stopwatch timestamp after which the manager forgets it (a leak guard only).</summary>
    public long Deadline { get; }

    /// <summary>True for the first caller only: the reply, an abort or the leak guard.</summary>
    public bool TryFinish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return false;
        }

        Provider.UnregisterTempActor(Path);
        return true;
    }

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (!TryFinish())
        {
            // Already failed with NodeLost: the late reply has nobody waiting.
            return;
        }

        ReplyTo.Tell(message, this);
        _answered(this, sender);
    }
}
