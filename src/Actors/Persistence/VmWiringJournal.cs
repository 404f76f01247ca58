using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace LuaActors.Persistence;

/// <summary>
/// One VM's peers, topics and StartServer listeners as durable desired state: an event-sourced
/// actor, persistence id <c>vm-wiring-&lt;vm id&gt;</c>, in the same journal as the VM's storage
/// (<c>vm-storage-&lt;vm id&gt;</c>), and like it a child of the VM's actor, so there is one writer
/// per VM id across the cluster. A change is answered <see cref="Done"/> only once the journal
/// has it; a change that would change nothing is answered at once. The VM's actor loads it when
/// it starts from the spec store (a restart, a hand-over), and erases it when the VM is removed.
/// <para>
/// When the journal fails, the change in flight is answered <see cref="Refused"/>, the parent
/// hears <see cref="Unavailable"/>, and the actor stops (Akka stops a persistent actor whose
/// write failed); the parent's <see cref="VmWiringKeeper"/> starts a fresh one for the next call.
/// </para>
/// </summary>
public sealed class VmWiringJournal : ReceivePersistentActor
{
    /// <summary>Persist <see cref="Change"/>: <see cref="Done"/> once durable (or at once when it changes nothing), or <see cref="Refused"/>.</summary>
    public sealed record Write(long RequestId, IVmWiringEvent Change);

    /// <summary>The recovered state: <see cref="Done"/> with it.</summary>
    public sealed record Load(long RequestId);

    /// <summary>Deletes every snapshot, then every event: <see cref="Done"/>, or <see cref="Refused"/>.</summary>
    public sealed record Erase(long RequestId);

    public sealed record Done(long RequestId, WiringSnapshot? Wiring) : IVmWiringReply;

    public sealed record Refused(long RequestId, string Reason) : IVmWiringReply;

    /// <summary>To the parent: the journal failed and this actor stops; fail what waits for it.</summary>
    public sealed record Unavailable(string Reason) : IVmWiringReply;

    private readonly VmWiringState _state = new();
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long? _writing;
    private long? _erasing;

    public VmWiringJournal(string vmId, int snapshotEvery, string journalPluginId, string snapshotPluginId)
    {
        _snapshotEvery = snapshotEvery;
        PersistenceId = PersistenceIdOf(vmId);
        if (journalPluginId.Length > 0)
        {
            JournalPluginId = journalPluginId;
        }

        if (snapshotPluginId.Length > 0)
        {
            SnapshotPluginId = snapshotPluginId;
        }

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is WiringSnapshot snapshot)
            {
                _state.Restore(snapshot);
            }
        });
        Recover<IVmWiringEvent>(_state.Apply);

        Command<Load>(load => Sender.Tell(new Done(load.RequestId, _state.Snapshot())));
        Command<Write>(OnWrite);
        Command<Erase>(erase =>
        {
            _erasing = erase.RequestId;
            // Snapshots first: while the events are all there, a failure half-way loses nothing.
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue, DateTime.MaxValue));
        });
        Command<SaveSnapshotSuccess>(saved => DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failure =>
            _log.Warning("links of VM {0}: a snapshot was not saved ({1}); the journal still has every event", vmId, failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ =>
        {
            if (_erasing is null)
            {
                return;
            }

            if (LastSequenceNr == 0)
            {
                Erased();
            }
            else
            {
                DeleteMessages(LastSequenceNr);
            }
        });
        Command<DeleteSnapshotsFailure>(failure => EraseFailed(failure.Cause));
        Command<DeleteMessagesSuccess>(_ => Erased());
        Command<DeleteMessagesFailure>(failure => EraseFailed(failure.Cause));
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdOf(string vmId) => "vm-wiring-" + vmId;

    public static Props Props(string vmId, int snapshotEvery, string journalPluginId, string snapshotPluginId) =>
        Akka.Actor.Props.Create(() => new VmWiringJournal(vmId, snapshotEvery, journalPluginId, snapshotPluginId));

    private void OnWrite(Write write)
    {
        if (!_state.WouldChange(write.Change))
        {
            Sender.Tell(new Done(write.RequestId, null));
            return;
        }

        var replyTo = Sender;
        _writing = write.RequestId;
        Persist(write.Change, change =>
        {
            _writing = null;
            _state.Apply(change);
            replyTo.Tell(new Done(write.RequestId, null));
            if (LastSequenceNr % _snapshotEvery == 0)
            {
                SaveSnapshot(_state.Snapshot());
            }
        });
    }

    private void Erased()
    {
        _state.Clear();
        if (_erasing is { } id)
        {
            Context.Parent.Tell(new Done(id, null));
            _erasing = null;
        }
    }

    private void EraseFailed(Exception cause)
    {
        if (_erasing is { } id)
        {
            Context.Parent.Tell(new Refused(id, "the journal did not delete them: " + cause.GetBaseException().Message));
            _erasing = null;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var reason = "the journal failed: " + cause.GetBaseException().Message;
        if (_writing is { } id)
        {
            Context.Parent.Tell(new Refused(id, reason + "; nothing was written"));
            _writing = null;
        }

        Context.Parent.Tell(new Unavailable(reason));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        if (_writing is { } id)
        {
            Context.Parent.Tell(new Refused(id, "the journal refused the write: " + cause.GetBaseException().Message + "; nothing was written"));
            _writing = null;
        }

        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(new Unavailable("the journal could not be read: " + reason.GetBaseException().Message));
        base.OnRecoveryFailure(reason, message);
    }
}

/// <summary>What a <see cref="VmWiringJournal"/> tells the VM's actor, for its <see cref="VmWiringKeeper"/>.</summary>
public interface IVmWiringReply;
