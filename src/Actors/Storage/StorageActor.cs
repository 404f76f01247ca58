using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using LuaActors.Messages;

namespace LuaActors.Storage;

/// <summary>
/// One VM's durable storage (docs/storage.md): an event-sourced actor, persistence id
/// <c>vm-storage-&lt;vm id&gt;</c>, a child of the VM's actor, so there is one writer per VM id
/// across the cluster and the data follows the VM to whichever node runs it. Every write (a set,
/// a delete, a transaction) is one <see cref="StorageChanged"/> event: the journal has all of it
/// or none of it. A write is answered only once the journal has it; a snapshot is saved every
/// <see cref="StorageSettings.SnapshotEvery"/> events. Reads are served from memory.
/// <para>
/// When the journal fails, the write in flight is answered storage-unavailable, the parent hears
/// <see cref="Unavailable"/>, and the actor stops (Akka stops a persistent actor whose write
/// failed: its state may no longer match the journal); the parent starts a fresh one, which
/// recovers from the journal, for the next call.
/// </para>
/// </summary>
public sealed class StorageActor : ReceivePersistentActor
{
    /// <summary>The value of <see cref="Key"/>: answered <see cref="Done"/> with its JSON, or null when unset.</summary>
    public sealed record Read(long RequestId, string Key);

    /// <summary>The keys that start with <see cref="Prefix"/>: <see cref="Done"/> with a JSON array of them.</summary>
    public sealed record ListKeys(long RequestId, string Prefix);

    /// <summary>The entries whose keys start with <see cref="Prefix"/>: <see cref="Dumped"/>.</summary>
    public sealed record Dump(long RequestId, string Prefix);

    /// <summary>Sets and deletes, all or nothing: <see cref="Done"/> once durable, or <see cref="Refused"/>.</summary>
    public sealed record Write(long RequestId, IReadOnlyList<StorageChange> Changes);

    /// <summary>Deletes every snapshot, then every event: <see cref="Done"/>, or <see cref="Refused"/>.</summary>
    public sealed record Erase(long RequestId);

    public sealed record Done(long RequestId, string? Json);

    public sealed record Dumped(long RequestId, IReadOnlyDictionary<string, string> Entries);

    /// <param name="Kind">"storage-limit" (nothing was written, the limits say no) or "storage-unavailable" (the journal failed).</param>
    public sealed record Refused(long RequestId, string Kind, string Message);

    /// <summary>To the parent: the journal failed and this actor stops; fail what waits for it.</summary>
    public sealed record Unavailable(string Reason);

    public const string LimitKind = "storage-limit";
    public const string UnavailableKind = "storage-unavailable";

    private readonly StorageState _state = new();
    private readonly StorageSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private (IActorRef ReplyTo, long RequestId)? _writing;
    private (IActorRef ReplyTo, long RequestId)? _erasing;

    public StorageActor(string vmId, StorageSettings settings)
    {
        _settings = settings;
        PersistenceId = PersistenceIdOf(vmId);
        if (settings.JournalPluginId.Length > 0)
        {
            JournalPluginId = settings.JournalPluginId;
        }

        if (settings.SnapshotPluginId.Length > 0)
        {
            SnapshotPluginId = settings.SnapshotPluginId;
        }

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is StorageSnapshot snapshot)
            {
                _state.Restore(snapshot);
            }
        });
        Recover<StorageChanged>(changed => _state.Apply(changed.Changes));

        Command<Read>(read => Sender.Tell(new Done(read.RequestId, _state.Get(read.Key))));
        Command<ListKeys>(list => Sender.Tell(new Done(list.RequestId, System.Text.Json.JsonSerializer.Serialize(_state.Keys(list.Prefix)))));
        Command<Dump>(dump => Sender.Tell(new Dumped(dump.RequestId, _state.Entries(dump.Prefix))));
        Command<Write>(OnWrite);
        Command<Erase>(OnErase);
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(failure =>
            _log.Warning("storage of VM {0}: a snapshot was not saved ({1}); the journal still has every event", vmId, failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => DeleteEvents());
        Command<DeleteSnapshotsFailure>(failure => EraseFailed(failure.Cause));
        Command<DeleteMessagesSuccess>(_ => Erased());
        Command<DeleteMessagesFailure>(failure => EraseFailed(failure.Cause));
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdOf(string vmId) => "vm-storage-" + vmId;

    public static Props Props(string vmId, StorageSettings settings) =>
        Akka.Actor.Props.Create(() => new StorageActor(vmId, settings));

    private void OnWrite(Write write)
    {
        if (_state.Check(write.Changes, _settings.Limits) is { } problem)
        {
            Sender.Tell(new Refused(write.RequestId, LimitKind, problem));
            return;
        }

        var replyTo = Sender;
        _writing = (replyTo, write.RequestId);
        Persist(new StorageChanged(write.Changes), changed =>
        {
            _writing = null;
            _state.Apply(changed.Changes);
            replyTo.Tell(new Done(write.RequestId, null));
            if (LastSequenceNr % _settings.SnapshotEvery == 0)
            {
                SaveSnapshot(_state.Snapshot());
            }
        });
    }

    /// <summary>Snapshots first: while the events are all there, a failure half-way loses nothing.</summary>
    private void OnErase(Erase erase)
    {
        _erasing = (Sender, erase.RequestId);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue, DateTime.MaxValue));
    }

    private void DeleteEvents()
    {
        if (LastSequenceNr == 0)
        {
            Erased();
            return;
        }

        DeleteMessages(LastSequenceNr);
    }

    private void Erased()
    {
        _state.Clear();
        if (_erasing is { } erasing)
        {
            erasing.ReplyTo.Tell(new Done(erasing.RequestId, null));
            _erasing = null;
        }
    }

    private void EraseFailed(Exception cause)
    {
        if (_erasing is { } erasing)
        {
            erasing.ReplyTo.Tell(new Refused(erasing.RequestId, UnavailableKind, "the journal did not delete the storage: " + cause.GetBaseException().Message));
            _erasing = null;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var reason = "the journal failed: " + cause.GetBaseException().Message;
        if (_writing is { } writing)
        {
            writing.ReplyTo.Tell(new Refused(writing.RequestId, UnavailableKind, reason + "; nothing was written"));
            _writing = null;
        }

        Context.Parent.Tell(new Unavailable(reason));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The journal refused the event (it could not serialize or store it) and is still up.
        if (_writing is { } writing)
        {
            writing.ReplyTo.Tell(new Refused(writing.RequestId, UnavailableKind, "the journal refused the write: " + cause.GetBaseException().Message + "; nothing was written"));
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
