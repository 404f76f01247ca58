using Akka.Actor;
using Akka.Event;

namespace LuaActors.Persistence;

/// <summary>
/// The parent of the <see cref="VmSpecJournal"/> (the cluster singleton, or the local actor): it
/// starts the journal again after it stopped (Akka stops a persistent actor whose write or
/// recovery failed), every <c>retry-interval</c> at most, so the node takes writes again by itself
/// once the database is back. While the database is known to be unreachable (the journal's last
/// write or recovery failed, and no recovery has succeeded since) it answers at once instead of
/// letting requests wait: a create or remove with <see cref="SpecWriteFailed"/>, a read with
/// <see cref="SpecJournalUnavailable"/>. Otherwise it forwards everything to the journal.
/// </summary>
public sealed class VmSpecJournalGuard : ReceiveActor, IWithTimers
{
    /// <summary>From the journal: it recovered (the database answered).</summary>
    public sealed record Recovered
    {
        public static readonly Recovered Instance = new();
    }

    /// <summary>From the journal: a write or its recovery failed; it stops.</summary>
    public sealed record Failed(string Reason);

    private sealed record StartJournal
    {
        public static readonly StartJournal Instance = new();
    }

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    private readonly Props _journalProps;
    private readonly TimeSpan _retryInterval;
    private readonly string _database;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _journal;
    private int _incarnation;
    private TimeSpan _nextRetry = FirstRetry;

    /// <summary>Why the database is unreachable; null while it is not known to be.</summary>
    private string? _down;

    public VmSpecJournalGuard(Props journalProps, TimeSpan retryInterval, string database)
    {
        _journalProps = journalProps;
        _retryInterval = retryInterval;
        _database = database;

        Receive<Recovered>(_ => OnRecovered(), _ => Sender.Equals(_journal));
        // From any incarnation: Terminated (a system message) may be handled before its last words.
        Receive<Failed>(failed => GoDown(failed.Reason), _ => Sender.Path.Parent.Equals(Self.Path));
        Receive<Terminated>(_ => OnJournalStopped(), terminated => terminated.ActorRef.Equals(_journal));
        Receive<StartJournal>(_ => Start());
        Receive<ISpecJournalMessage>(OnRequest);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Props journalProps, TimeSpan retryInterval, string database) =>
        Akka.Actor.Props.Create(() => new VmSpecJournalGuard(journalProps, retryInterval, database));

    protected override void PreStart() => Start();

    private void Start()
    {
        // A new name each time: the stopped one may not be gone from the children yet.
        _journal = Context.ActorOf(_journalProps, "journal-" + ++_incarnation);
        Context.Watch(_journal);
    }

    private void OnRecovered()
    {
        if (_down is not null)
        {
            _log.Info("VM specs: {0} answers again; creates and removes are taken again", _database);
        }

        _down = null;
        _nextRetry = FirstRetry;
    }

    private void GoDown(string reason)
    {
        if (_down is null)
        {
            _log.Warning("VM specs: {0} failed ({1}); creates and removes fail with storage-unavailable until it answers again (tried every {2} s)",
                _database, reason, _retryInterval.TotalSeconds);
        }

        _down = reason;
    }

    private void OnJournalStopped()
    {
        _journal = null;
        if (_down is null)
        {
            GoDown("the VM spec journal stopped");
        }

        Timers.StartSingleTimer(StartJournal.Instance, StartJournal.Instance, _nextRetry);
        _nextRetry = TimeSpan.FromTicks(Math.Min(_nextRetry.Ticks * 2, _retryInterval.Ticks));
    }

    private void OnRequest(ISpecJournalMessage request)
    {
        if (_down is null && _journal is not null)
        {
            _journal.Forward(request);
            return;
        }

        var reason = $"the database is unreachable ({_down ?? "the VM spec journal is starting again"})";
        switch (request)
        {
            case PutSpec put:
                Sender.Tell(new SpecWriteFailed(put.Spec.VmId, reason));
                break;
            case RemoveSpec remove:
                Sender.Tell(new SpecWriteFailed(remove.VmId, reason));
                break;
            case FindSpec or GetAllSpecs:
                Sender.Tell(new SpecJournalUnavailable(reason));
                break;
            default:
                Unhandled(request);
                break;
        }
    }
}
