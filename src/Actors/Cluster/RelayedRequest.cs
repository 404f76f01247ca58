using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Cluster;

/// <summary>
/// One request a <see cref="ShardedManagerActor"/> sent into the shard region, and the sender
/// its reply comes back to: a temporary actor ref like the one behind <c>Ask</c> (no actor,
/// no mailbox, addressable from other nodes), which the manager keeps while it is in flight so
/// it can fail it with <c>NodeLost</c> if the node the region sent it to is lost. (A child
/// actor per request, as before, cost an actor's creation and stop on every call.)
/// <para>
/// The reply arrives on whatever thread delivers it, while the manager may be aborting the
/// request: <see cref="TryFinish"/> lets exactly one of them answer.
/// </para>
/// </summary>
internal sealed class RelayedRequest : MinimalActorRef
{
    /// <summary>How often a request that never reached its VM is sent again (each hand-over may drop it once).</summary>
    private const int MaxResends = 5;

    private readonly Action<RelayedRequest> _answered;
    private readonly Action<RelayedRequest> _resend;
    private int _finished;
    private int _resends;

    /// <param name="answered">Called once the reply went on.</param>
    /// <param name="resend">Called when the request came back undelivered (it did not run): send <see cref="Command"/> again.</param>
    public RelayedRequest(
        IActorRefProvider provider, IActorRef replyTo, IVmCommand command, long deadline,
        Action<RelayedRequest> answered, Action<RelayedRequest> resend)
    {
        Provider = provider;
        Path = provider.TempPath();
        ReplyTo = replyTo;
        Command = command;
        Deadline = deadline;
        _answered = answered;
        _resend = resend;
        provider.RegisterTempActor(this, Path);
    }

    public override ActorPath Path { get; }

    public override IActorRefProvider Provider { get; }

    public IActorRef ReplyTo { get; }

    public IVmCommand Command { get; }

    public string VmId => Command.VmId;

    /// <summary>Stopwatch timestamp after which the manager forgets it (a leak guard only).</summary>
    public long Deadline { get; }

    /// <summary>
    /// The manager's count of sends into the region when this request was last sent (set and
    /// read on the manager's thread only): a location the region gave after that send covers it.
    /// </summary>
    public long Sent { get; set; }

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
        if (message is RequestFailed { Undelivered: true } && Volatile.Read(ref _finished) == 0 && Interlocked.Increment(ref _resends) <= MaxResends)
        {
            // Dropped on its way (a hand-over); it never ran, so it goes again, to the VM's next home.
            _resend(this);
            return;
        }

        if (!TryFinish())
        {
            // Already failed with NodeLost: the late reply has nobody waiting.
            return;
        }

        // From whoever answered (the VM's actor): a VmManager on this node sends that VM's next
        // executes to it directly when it is local (VmManager.Execute.cs).
        ReplyTo.Tell(message, sender ?? ActorRefs.NoSender);
        _answered(this);
    }
}
