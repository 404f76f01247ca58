using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.Cluster;

/// <summary>
/// The manager of one cluster node. VMs are entities of the shard region "vm", so every
/// command works from any node for a VM on any node; specs live in the <see cref="VmRegistry"/> (an <see cref="IVmSpecStore"/>),
/// so a VM that sharding starts elsewhere rebuilds itself. One per node; any of them will do.
/// </summary>
public sealed class ShardedManagerActor : VmManagerActorBase, IWithTimers
{
    /// <summary>From a request's temporary ref: answered.</summary>
    private sealed record RequestAnswered(RelayedRequest Request);

    /// <summary>
    /// Where the region sends <paramref name="VmId"/>'s requests (its <c>EntityLocation</c>),
    /// as it stood after the manager's first <paramref name="Sends"/> sends into the region.
    /// </summary>
    /// <remarks>
    /// <paramref name="Node"/> is null when the shard has no home; <paramref name="Failed"/> when
    /// the region did not answer. <paramref name="Lost"/>: asked because a node was lost, for the
    /// requests already sent then.
    /// </remarks>
    private sealed record Located(string VmId, Address? Node, long Sends, bool Failed = false, Address? Lost = null);

    /// <summary>A lost node's shards have surely left the region's routing by now: stop locating requests.</summary>
    private sealed record StopWatchingLostNode(Address Node);

    /// <summary>From a request's temporary ref: it never reached its VM; send it again.</summary>
    private sealed record ResendRequest(RelayedRequest Request);

    private sealed record SweepInFlight
    {
        public static readonly SweepInFlight Instance = new();
    }

    private static readonly TimeSpan RelayMargin = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ResendDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long the region's location query waits for the entity to answer (its node may be
    /// dead): the answer names the shard's node either way, after at most this long.
    /// </summary>
    private static readonly TimeSpan LocateTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>How much longer than <see cref="LocateTimeout"/> the region may take to answer (it may be busy).</summary>
    private static readonly TimeSpan LocateAnswerMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After a lost node is removed, the region forgets its shards once it sees the node's region
    /// terminate (the same membership event); until then it may still send requests there.
    /// </summary>
    private static readonly TimeSpan LostNodeWatch = TimeSpan.FromSeconds(5);

    private readonly IActorRef _region;
    private readonly TimeSpan _placementWait;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly HashSet<RelayedRequest> _inFlight = [];

    /// <summary>Nodes that were downed and whose shards the region may still send requests to.</summary>
    private readonly HashSet<Address> _lostNodes = [];
    private long _sends;
    private int _upMembersPlaced;

    public ShardedManagerActor(IActorRef region, IActorRef factory, IVmSpecStore registry, VmSettings settings, TimeSpan placementWait)
        : base(factory, settings, registry)
    {
        _region = region;
        _placementWait = placementWait;

        Receive<RequestAnswered>(answered => _inFlight.Remove(answered.Request));
        Receive<SweepInFlight>(_ => Sweep());
        Receive<ResendRequest>(resend =>
        {
            if (_inFlight.Contains(resend.Request))
            {
                Send(resend.Request);
            }
        });
        Receive<Located>(OnLocated);
        Receive<Akka.Cluster.ClusterEvent.MemberDowned>(downed => OnNodeLost(downed.Member.Address));
        Receive<Akka.Cluster.ClusterEvent.MemberRemoved>(removed =>
        {
            // A graceful leave handed its shards over first: requests in flight were re-routed by
            // sharding and are answered from the new node. A downed node's were not.
            if (removed.PreviousStatus == Akka.Cluster.MemberStatus.Down)
            {
                OnNodeLost(removed.Member.Address);
                Timers.StartSingleTimer(("lost", removed.Member.Address), new StopWatchingLostNode(removed.Member.Address), LostNodeWatch);
            }
        });
        Receive<StopWatchingLostNode>(stop => _lostNodes.Remove(stop.Node));
        // A node that comes back at the same address is a new member, not a lost one.
        Receive<Akka.Cluster.ClusterEvent.MemberUp>(up => _lostNodes.Remove(up.Member.Address));
        Receive<Akka.Cluster.ClusterEvent.IMemberEvent>(_ => { });
        // A session's commands keep their sender (the session's actor): the VM sends its events there.
        ReceiveVmCommands<ISessionCommand>((command, sender) => _region.Tell(command, sender));
        ReceiveVmCommands<IVmCommand>(Relay);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(Akka.Cluster.ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer(nameof(SweepInFlight), SweepInFlight.Instance, SweepInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    public static Props Props(IActorRef region, IActorRef factory, IVmSpecStore registry, VmSettings settings, TimeSpan placementWait) =>
        Akka.Actor.Props.Create(() => new ShardedManagerActor(region, factory, registry, settings, placementWait));

    protected override IActorRef Router => _region;

    protected override string SpecStoreName => "the VM registry";

    /// <summary>Refuses a bad type (this node's factory) or a duplicate, writes the spec to a majority.</summary>
    protected override async Task<RequestFailed?> RegisterAsync(CreateVm create) =>
        await VmCreation.ResolveTypeAsync(create, Factory, Settings.ListTimeout).ConfigureAwait(false)
            ?? await VmCreation.RegisterAsync(create, Specs, WaitForEveryRegionAsync).ConfigureAwait(false);

    /// <summary>Sharding places the VM; the entity answers the creator once its process runs, wherever it was placed.</summary>
    protected override void Place(CreateVm create, IActorRef creator) => Relay(create, creator);

    /// <summary>
    /// Sends <paramref name="command"/> into the region with a <see cref="RelayedRequest"/> as
    /// its sender: the reply goes straight on to <paramref name="replyTo"/> from the thread that
    /// delivers it, and only a note of where the VM answered comes back here.
    /// </summary>
    private void Relay(IVmCommand command, IActorRef replyTo)
    {
        var limit = command switch
        {
            Execute { TimeoutMs: { } ms } => TimeSpan.FromMilliseconds(ms),
            // A wait for what the VM sends its host may outlast any request's time limit.
            ReceiveFromVm { WaitMs: var waitMs } => TimeSpan.FromMilliseconds(waitMs) + Settings.DefaultTimeout,
            _ => Settings.DefaultTimeout,
        };
        var maxWait = limit + Settings.KillGrace + RelayMargin;
        var self = Self;
        var scheduler = Context.System.Scheduler;
        var request = new RelayedRequest(
            ((ExtendedActorSystem)Context.System).Provider,
            replyTo,
            command,
            Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency),
            answered => self.Tell(new RequestAnswered(answered), ActorRefs.NoSender),
            // A short pause: the region buffers it until the VM's shard has its new home.
            undelivered => scheduler.ScheduleTellOnce(ResendDelay, self, new ResendRequest(undelivered), ActorRefs.NoSender));
        _inFlight.Add(request);
        Send(request);
    }

    /// <summary>
    /// Into the region; while a lost node's shards may still be routed to it, then asks the
    /// region where it sent the request, so a request that went to the lost node fails at once.
    /// </summary>
    private void Send(RelayedRequest request)
    {
        request.Sent = ++_sends;
        _region.Tell(request.Command, request);
        if (_lostNodes.Count > 0)
        {
            Locate(request.VmId);
        }
    }

    /// <summary>
    /// Asks the region where it routes <paramref name="vmId"/>'s requests: the node of the
    /// shard's home as the region knows it — what it has actually done with the requests sent
    /// so far, whichever replies this node happened to see.
    /// </summary>
    private void Locate(string vmId, Address? lost = null)
    {
        var sends = _sends;
        var selfAddress = _cluster.SelfAddress;
        _region.Ask<EntityLocation>(new GetEntityLocation(vmId, LocateTimeout), LocateTimeout + LocateAnswerMargin)
            .PipeTo(
                Self,
                success: location => new Located(vmId, location.ShardRegion.Equals(Address.AllSystems)
                    ? null
                    : location.ShardRegion.HasLocalScope ? selfAddress : location.ShardRegion, sends, Lost: lost),
                failure: _ => new Located(vmId, null, sends, Failed: true, Lost: lost));
    }

    private void OnLocated(Located located)
    {
        if (located.Failed && _lostNodes.Count > 0 && _inFlight.Any(r => r.VmId == located.VmId))
        {
            // A busy region: ask again rather than leave the requests to the ask time-out.
            Locate(located.VmId, located.Lost);
            return;
        }

        // The region forgets a lost node's shard homes when it sees the node removed, which can
        // come before this manager's question: a shard with no home right after a loss was homed
        // there (a live node's homes stay known), so requests already sent went to the lost node.
        // Requests sent later, while the shard has no home, the region holds for its new home.
        var node = located.Node ?? located.Lost;
        if (node is null || !_lostNodes.Contains(node))
        {
            // On a live node: those requests are answered from there.
            return;
        }

        var lost = 0;
        foreach (var request in _inFlight.Where(r => r.Sent <= located.Sends && r.VmId == located.VmId).ToList())
        {
            if (request.TryFinish())
            {
                request.ReplyTo.Tell(new RequestFailed(request.VmId, ErrorKind.NodeLost,
                    $"VM '{request.VmId}' was on node {node}, which was lost; it restarts on another node: retry"));
                lost++;
            }

            _inFlight.Remove(request);
        }

        if (lost > 0)
        {
            _log.Warning("node {0} is lost: {1} requests in flight to VM {2} failed", node, lost, located.VmId);
        }
    }

    /// <summary>Only a leak guard: the asker's own timeout is what the caller sees.</summary>
    private void Sweep()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var request in _inFlight.Where(r => r.Deadline < now).ToList())
        {
            request.TryFinish();
            _inFlight.Remove(request);
        }
    }

    /// <summary>
    /// Requests the region sent to a downed node will never be answered: find every VM with
    /// requests in flight that the region routes there, and fail those requests now. Sharding
    /// restarts the VMs on the survivors; a retry reaches them there. Until the region forgets
    /// the node's shards, each new request is located too (<see cref="Send"/>).
    /// </summary>
    private void OnNodeLost(Address node)
    {
        _lostNodes.Add(node);
        foreach (var vmId in _inFlight.Select(r => r.VmId).Distinct(StringComparer.Ordinal).ToList())
        {
            Locate(vmId, node);
        }
    }

    /// <summary>
    /// The coordinator places a new shard on a region it knows; right after start-up it may not
    /// know every node's region yet. Wait (bounded) until it does; remember the answer until
    /// the number of Up members changes.
    /// </summary>
    private async Task WaitForEveryRegionAsync()
    {
        var deadline = DateTime.UtcNow + _placementWait;
        while (true)
        {
            var up = _cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);
            if (up == Volatile.Read(ref _upMembersPlaced))
            {
                return;
            }

            try
            {
                var regions = await _region.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                if (regions.Regions.Count >= up)
                {
                    Volatile.Write(ref _upMembersPlaced, up);
                    return;
                }
            }
            catch (AskTimeoutException)
            {
                // The coordinator is not reachable yet; try again until the deadline.
            }

            if (DateTime.UtcNow > deadline)
            {
                _log.Warning("placing a VM before the coordinator knows a region on each of the {0} Up nodes", up);
                return;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
