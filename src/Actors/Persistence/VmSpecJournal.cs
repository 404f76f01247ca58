using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using LuaActors.Messages;

namespace LuaActors.Persistence;

/// <summary>
/// Every VM spec, event-sourced in the default journal (<see cref="SpecPut"/>,
/// <see cref="SpecRemoved"/>) with a snapshot every <c>snapshot-every</c> events. One actor for
/// the whole system, not one per VM: a full restart reads one stream (a snapshot and a few
/// events) instead of one per VM, listing needs no query over many streams, and "is this id
/// taken?" is answered from memory. Writes are few (a create, a remove) and ~10 ms each, so one
/// writer is no bottleneck. In a cluster it is a singleton (one writer of the stream); locally a
/// plain actor. Both run under a <see cref="VmSpecJournalGuard"/>: a lost database stops it (Akka
/// stops a persistent actor whose write or recovery failed), the guard starts it again until it
/// recovers, and answers at once while the database is away; this actor tells the guard which.
/// A write is answered only once the database has it; a failed one is answered
/// <see cref="SpecWriteFailed"/>, and memory keeps what the database has.
/// </summary>
public sealed class VmSpecJournal : ReceivePersistentActor
{
    public const string StreamId = "luaactors-vm-specs";

    private readonly Dictionary<string, VmSpec> _specs = new(StringComparer.Ordinal);
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Who waits for the write in flight (Persist stashes the next command until it is done).</summary>
    private (IActorRef ReplyTo, string VmId)? _writing;

    public VmSpecJournal(int snapshotEvery)
    {
        _snapshotEvery = snapshotEvery;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is SpecSnapshot snapshot)
            {
                _specs.Clear();
                foreach (var spec in snapshot.Specs)
                {
                    _specs[spec.VmId] = spec;
                }
            }
        });
        Recover<SpecPut>(Apply);
        Recover<SpecRemoved>(Apply);

        Command<PutSpec>(put => Write(new SpecPut(put.Spec), put.Spec.VmId, () => new SpecStored(put.Spec.VmId)));
        Command<RemoveSpec>(remove =>
        {
            if (_specs.ContainsKey(remove.VmId))
            {
                Write(new SpecRemoved(remove.VmId), remove.VmId, () => new SpecDeleted(remove.VmId, Existed: true));
            }
            else
            {
                Sender.Tell(new SpecDeleted(remove.VmId, Existed: false));
            }
        });
        Command<FindSpec>(find => Sender.Tell(new SpecFound(find.VmId, _specs.GetValueOrDefault(find.VmId))));
        Command<GetAllSpecs>(_ => Sender.Tell(new AllSpecs([.. _specs.Values])));
        Command<SaveSnapshotSuccess>(saved =>
            // Older snapshots are never read again.
            DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => _log.Warning("VM spec snapshot not saved (the events still are): {0}", failed.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId => StreamId;

    public static Props Props(int snapshotEvery) => Akka.Actor.Props.Create(() => new VmSpecJournal(snapshotEvery));

    private void Write<TEvent>(TEvent written, string vmId, Func<ISpecJournalMessage> answer)
        where TEvent : ISpecJournalMessage
    {
        var replyTo = Sender;
        _writing = (replyTo, vmId);
        Persist(written, stored =>
        {
            _writing = null;
            Apply(stored);
            replyTo.Tell(answer());
            if (LastSequenceNr % _snapshotEvery == 0)
            {
                SaveSnapshot(new SpecSnapshot([.. _specs.Values]));
            }
        });
    }

    private void Apply(ISpecJournalMessage written)
    {
        switch (written)
        {
            case SpecPut put:
                _specs[put.Spec.VmId] = put.Spec;
                break;
            case SpecRemoved removed:
                _specs.Remove(removed.VmId);
                break;
        }
    }

    protected override void OnReplaySuccess()
    {
        Context.Parent.Tell(VmSpecJournalGuard.Recovered.Instance);
        base.OnReplaySuccess();
    }

    /// <summary>The database could not be read: Akka stops this actor; the guard starts another later.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(new VmSpecJournalGuard.Failed(reason.GetBaseException().Message));
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>The database lost the write: the asker hears it now; Akka then stops this actor.</summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        AnswerFailedWrite(cause);
        Context.Parent.Tell(new VmSpecJournalGuard.Failed(cause.GetBaseException().Message));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>The database refused the write (this actor goes on).</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        AnswerFailedWrite(cause);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private void AnswerFailedWrite(Exception cause)
    {
        if (_writing is { } writing)
        {
            writing.ReplyTo.Tell(new SpecWriteFailed(writing.VmId, cause.GetBaseException().Message));
            _writing = null;
        }
    }
}
