using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Tools.PublishSubscribe;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Storage;
using LuaActors.Vm;

namespace LuaActors.Persistence;

/// <summary>
/// The VM actor's side of its <see cref="VmWiringJournal"/> (docs/guarantees.md): starts the
/// child when first needed, sends it changes, loads and erasures, and runs what waits for each
/// answer on the actor's thread (<see cref="Handle"/> is called from the actor's receive).
/// <para>
/// Costs: with persistence off nothing is journaled (a process crash and a hand-over keep the
/// links in the actor and through the shard region already, and a per-node in-memory journal
/// would be stale after a hand-over and back), and every call answers at once. With persistence
/// on, a VM created by a user starts no child and reads nothing (a new VM has no record: removing
/// a VM erases it); the child starts at the first change that changes something, or when the VM
/// starts from the spec store (a full restart, a hand-over, a node's loss), which reads its record
/// once.
/// </para>
/// </summary>
internal sealed class VmWiringKeeper
{
    private sealed record RetryLoad : IVmWiringReply
    {
        public static readonly RetryLoad Instance = new();
    }

    private sealed record Wait(Action<WiringSnapshot?> Done, Action<string> Failed);

    private static readonly TimeSpan LoadRetry = TimeSpan.FromSeconds(2);

    private readonly string _vmId;
    private readonly ILoggingAdapter _log;
    private readonly int _snapshotEvery;
    private readonly string _journalPluginId;
    private readonly string _snapshotPluginId;
    private readonly Dictionary<long, Wait> _waits = [];

    /// <summary>What the journal has, as far as answers said (the child is the authority).</summary>
    private readonly VmWiringState _known = new();

    private IActorRef? _journal;
    private int _incarnation;
    private long _requests;
    private bool _mayHaveRecord;
    private bool _erasing;
    private Action<WiringSnapshot>? _loading;

    public VmWiringKeeper(string vmId, ActorSystem system, ILoggingAdapter log)
    {
        _vmId = vmId;
        _log = log;
        var persistence = LuaActorsPersistence.Get(system).Settings;
        IsDurable = persistence.IsDurable;
        _snapshotEvery = persistence.SnapshotEvery;
        var storage = StorageSettings.Of(system);
        _journalPluginId = storage.JournalPluginId;
        _snapshotPluginId = storage.SnapshotPluginId;
    }

    /// <summary>Persistence is on: changes are journaled and acknowledged once durable.</summary>
    public bool IsDurable { get; }

    /// <summary>
    /// The record as the journal has it, for a VM that starts from the spec store. With persistence
    /// off at once (empty). While the journal cannot be read, tried again every few seconds: the VM
    /// waits, as it waits for its spec.
    /// </summary>
    public void Load(IActorContext context, Action<WiringSnapshot> loaded)
    {
        if (!IsDurable)
        {
            loaded(WiringSnapshot.Empty);
            return;
        }

        _mayHaveRecord = true;
        _loading = loaded;
        Ask(context, id => new VmWiringJournal.Load(id), new Wait(
            wiring =>
            {
                _loading = null;
                _known.Restore(wiring!);
                loaded(wiring!);
            },
            problem =>
            {
                _log.Warning("VM {0}: its links, topics and servers could not be read ({1}); trying again in {2}", _vmId, problem, LoadRetry);
                context.System.Scheduler.ScheduleTellOnce(LoadRetry, context.Self, RetryLoad.Instance, ActorRefs.NoSender);
            }));
    }

    /// <summary>
    /// Journals <paramref name="change"/>, then runs <paramref name="done"/> (apply it, answer the
    /// caller); <paramref name="failed"/> with the reason when the journal did not take it (nothing changed).
    /// </summary>
    public void Change(IActorContext context, IVmWiringEvent change, Action done, Action<string> failed)
    {
        if (!IsDurable)
        {
            done();
            return;
        }

        if (_erasing)
        {
            failed($"VM '{_vmId}' is being removed");
            return;
        }

        if (_waits.Count == 0 && !_known.WouldChange(change))
        {
            // Nothing in flight: what is known is what the journal has, and this changes none of it.
            done();
            return;
        }

        _mayHaveRecord = true;
        Ask(context, id => new VmWiringJournal.Write(id, change), new Wait(
            _ =>
            {
                _known.Apply(change);
                done();
            },
            failed));
    }

    /// <summary>A change the VM made by itself (a listener closed, a reset): journaled, a failure only logged.</summary>
    public void Note(IActorContext context, IVmWiringEvent change) =>
        Change(context, change, () => { }, problem =>
            _log.Warning("VM {0}: {1} was not journaled ({2}); a full restart may bring it back", _vmId, change, problem));

    /// <summary>The VM's removal: the record goes; from now on changes are refused (<see cref="Resume"/> if the removal fails later).</summary>
    public void Erase(IActorContext context, Action done, Action<string> failed)
    {
        if (!IsDurable || !_mayHaveRecord)
        {
            // Never loaded, never written: a VM created since the last removal of its id has no record.
            _erasing = true;
            done();
            return;
        }

        _erasing = true;
        Ask(context, id => new VmWiringJournal.Erase(id), new Wait(
            _ =>
            {
                _known.Clear();
                done();
            },
            problem =>
            {
                _erasing = false;
                failed(problem);
            }));
    }

    /// <summary>The removal failed after the record went: the VM stays, and its changes are journaled again.</summary>
    public void Resume() => _erasing = false;

    public void Handle(IActorContext context, IVmWiringReply reply, IActorRef sender)
    {
        switch (reply)
        {
            case VmWiringJournal.Done done when _waits.Remove(done.RequestId, out var wait):
                wait.Done(done.Wiring);
                break;
            case VmWiringJournal.Refused refused when _waits.Remove(refused.RequestId, out var wait):
                wait.Failed(refused.Reason);
                break;
            case VmWiringJournal.Unavailable unavailable when sender.Equals(_journal):
                // The child stops: what still waits for it is lost with it.
                _journal = null;
                foreach (var (id, wait) in _waits.ToList())
                {
                    _waits.Remove(id);
                    wait.Failed(unavailable.Reason);
                }

                break;
            case RetryLoad when _loading is { } loaded:
                Load(context, loaded);
                break;
        }
    }

    /// <summary>A loaded record into the actor's books, and its topics to the mediator (<paramref name="self"/> subscribes).</summary>
    public static void Restore(WiringSnapshot wiring, VmLinks links, VmListenerBook listeners, IActorRef mediator, IActorRef self, TimeSpan timeout)
    {
        foreach (var peer in wiring.Peers)
        {
            links.Link(peer);
        }

        foreach (var topic in wiring.Topics)
        {
            links.Subscribe(topic);
            // Nobody waits for it; a mediator that does not confirm is a mediator that is not up (the next publication tells).
            _ = mediator.Ask<SubscribeAck>(new Subscribe(VmTopics.Key(topic), self), timeout);
        }

        foreach (var server in wiring.Servers)
        {
            listeners.ServerStarted(server.Host, server.Port);
        }
    }

    /// <summary>What a caller hears when the journal did not take its change.</summary>
    public RequestFailed Unavailable(string what, string problem) =>
        new(_vmId, ErrorKind.StorageUnavailable, UnavailableError(what, problem).Message);

    public StorageUnavailableException UnavailableError(string what, string problem) =>
        new($"storage-unavailable: {what} of VM '{_vmId}' was not made durable, so not made: {problem}");

    private void Ask(IActorContext context, Func<long, object> message, Wait wait)
    {
        if (_journal is null)
        {
            // A new name each time: the one that stopped may not be gone from the children yet.
            _journal = context.ActorOf(
                VmWiringJournal.Props(_vmId, _snapshotEvery, _journalPluginId, _snapshotPluginId), "wiring-" + ++_incarnation);
        }

        var id = ++_requests;
        _waits[id] = wait;
        _journal.Tell(message(id), context.Self);
    }
}
