using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors.Cluster;

/// <summary>
/// The manager of one cluster node. VMs are entities of the shard region "vm", so every
/// command works from any node for a VM on any node; specs live in the <see cref="VmRegistry"/>,
/// so a VM that sharding starts elsewhere rebuilds itself. One per node; any of them will do.
/// </summary>
public sealed class ShardedManagerActor : ReceiveActor, IWithTimers
{
    private sealed record CreateChecked(CreateVm Create, IActorRef Creator, RequestFailed? Failure);

    private sealed record Collected(IActorRef ReplyTo, ILuaActorsMessage Reply);

    /// <summary>From a request's temporary ref: answered by the VM on <see cref="VmNode"/>.</summary>
    private sealed record RequestAnswered(RelayedRequest Request, Address? VmNode);

    /// <summary>From a request's temporary ref: it never reached its VM; send it again.</summary>
    private sealed record ResendRequest(RelayedRequest Request);

    private sealed record SweepInFlight
    {
        public static readonly SweepInFlight Instance = new();
    }

    private static readonly TimeSpan RelayMargin = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ResendDelay = TimeSpan.FromMilliseconds(100);

    private readonly IActorRef _region;
    private readonly IActorRef _factory;
    private readonly VmRegistry _registry;
    private readonly VmSettings _settings;
    private readonly TimeSpan _placementWait;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _creating = new(StringComparer.Ordinal);
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly HashSet<RelayedRequest> _inFlight = [];
    private readonly Dictionary<string, Address> _vmNodes = new(StringComparer.Ordinal);
    private int _upMembersPlaced;

    public ShardedManagerActor(IActorRef region, IActorRef factory, VmRegistry registry, VmSettings settings, TimeSpan placementWait)
    {
        _region = region;
        _factory = factory;
        _registry = registry;
        _settings = settings;
        _placementWait = placementWait;

        Receive<CreateVm>(create => Create(create, Sender));
        Receive<CreateChecked>(OnCreateChecked);
        Receive<ListVms>(_ => CollectAsync(Sender, ListAsync()));
        Receive<ShutdownAll>(_ => CollectAsync(Sender, RemoveAllAsync()));
        Receive<Collected>(collected => collected.ReplyTo.Tell(collected.Reply));
        Receive<RequestAnswered>(OnRequestAnswered);
        Receive<SweepInFlight>(_ => Sweep());
        Receive<ResendRequest>(resend =>
        {
            if (_inFlight.Contains(resend.Request))
            {
                _region.Tell(resend.Request.Command, resend.Request);
            }
        });
        Receive<Akka.Cluster.ClusterEvent.MemberDowned>(downed => OnNodeLost(downed.Member.Address, removed: false));
        Receive<Akka.Cluster.ClusterEvent.MemberRemoved>(removed =>
        {
            if (removed.PreviousStatus == Akka.Cluster.MemberStatus.Down)
            {
                OnNodeLost(removed.Member.Address, removed: true);
            }
            else
            {
                // A graceful leave handed its shards over first: requests still in flight were
                // re-routed by sharding and will be answered from the new node.
                Forget(removed.Member.Address);
            }
        });
        Receive<Akka.Cluster.ClusterEvent.IMemberEvent>(_ => { });
        // A session's commands keep their sender (the session's actor): the VM sends its events there.
        Receive<ISessionCommand>(command => _region.Forward(command));
        Receive<IVmCommand>(command => Relay(command, Sender));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(Akka.Cluster.ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer(nameof(SweepInFlight), SweepInFlight.Instance, SweepInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    public static Props Props(IActorRef region, IActorRef factory, VmRegistry registry, VmSettings settings, TimeSpan placementWait) =>
        Akka.Actor.Props.Create(() => new ShardedManagerActor(region, factory, registry, settings, placementWait));

    private void Create(CreateVm create, IActorRef creator)
    {
        var id = create.Spec.VmId ?? "";
        if (VmFactoryActor.ValidateSpec(create.Spec) is { } problem)
        {
            creator.Tell(new RequestFailed(id, ErrorKind.InvalidSpec, problem));
            return;
        }

        if (!_creating.Add(id))
        {
            creator.Tell(new RequestFailed(id, ErrorKind.AlreadyExists, $"a VM with id '{id}' is being created"));
            return;
        }

        RegisterAsync(create, creator).PipeTo(
            Self,
            failure: error => new CreateChecked(create, creator,
                new RequestFailed(id, ErrorKind.Stopped, "the VM registry did not answer: " + error.GetBaseException().Message)));
    }

    /// <summary>
    /// Refuses a bad spec (type, config: checked by this node's factory) or a duplicate, writes
    /// the spec to a majority, then lets sharding place the VM.
    /// </summary>
    private async Task<CreateChecked> RegisterAsync(CreateVm create, IActorRef creator)
    {
        if (await _factory.Ask<object>(new VmFactoryActor.ResolveBackend(create.Spec), _settings.ListTimeout).ConfigureAwait(false)
            is RequestFailed refused)
        {
            return new CreateChecked(create, creator, refused);
        }

        await WaitForEveryRegionAsync().ConfigureAwait(false);
        if (await _registry.FindAsync(create.VmId).ConfigureAwait(false) is not null)
        {
            return new CreateChecked(create, creator,
                new RequestFailed(create.VmId, ErrorKind.AlreadyExists, $"a VM with id '{create.VmId}' already exists"));
        }

        await _registry.PutAsync(create.Spec).ConfigureAwait(false);
        return new CreateChecked(create, creator, null);
    }

    private void OnCreateChecked(CreateChecked checkedCreate)
    {
        _creating.Remove(checkedCreate.Create.VmId);
        if (checkedCreate.Failure is { } failure)
        {
            checkedCreate.Creator.Tell(failure);
        }
        else
        {
            // The entity answers the creator once its process runs, wherever it was placed.
            Relay(checkedCreate.Create, checkedCreate.Creator);
        }
    }

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
            ReceiveFromVm { WaitMs: var waitMs } => TimeSpan.FromMilliseconds(waitMs) + _settings.DefaultTimeout,
            _ => _settings.DefaultTimeout,
        };
        var maxWait = limit + _settings.KillGrace + RelayMargin;
        var self = Self;
        var scheduler = Context.System.Scheduler;
        var selfAddress = _cluster.SelfAddress;
        var request = new RelayedRequest(
            ((ExtendedActorSystem)Context.System).Provider,
            replyTo,
            command,
            Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency),
            (answered, vm) =>
            {
                var from = vm?.Path.Address;
                self.Tell(new RequestAnswered(answered, from is null ? null : from.HasLocalScope ? selfAddress : from), ActorRefs.NoSender);
            },
            // A short pause: the region buffers it until the VM's shard has its new home.
            undelivered => scheduler.ScheduleTellOnce(ResendDelay, self, new ResendRequest(undelivered), ActorRefs.NoSender));
        _inFlight.Add(request);
        _region.Tell(command, request);
    }

    private void OnRequestAnswered(RequestAnswered answered)
    {
        _inFlight.Remove(answered.Request);
        if (answered.VmNode is { } node)
        {
            _vmNodes[answered.Request.VmId] = node;
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
    /// Requests to VMs last seen on a downed or removed node will never be answered: fail them
    /// now. Sharding restarts those VMs on the survivors; a retry reaches them there.
    /// </summary>
    private void OnNodeLost(Address node, bool removed)
    {
        var lost = 0;
        foreach (var request in _inFlight.ToList())
        {
            var vmId = request.VmId;
            if (_vmNodes.TryGetValue(vmId, out var at) && at.Equals(node) && request.TryFinish())
            {
                request.ReplyTo.Tell(new RequestFailed(vmId, ErrorKind.NodeLost,
                    $"VM '{vmId}' was on node {node}, which left the cluster or was lost; it restarts on another node: retry"));
                _inFlight.Remove(request);
                lost++;
            }
        }

        // Until the node is removed, the region may still send to it: keep failing those requests.
        if (removed)
        {
            Forget(node);
        }

        if (lost > 0)
        {
            _log.Warning("node {0} is gone: {1} requests in flight to its VMs failed", node, lost);
        }
    }

    private void Forget(Address node)
    {
        foreach (var vmId in _vmNodes.Where(pair => pair.Value.Equals(node)).Select(pair => pair.Key).ToList())
        {
            _vmNodes.Remove(vmId);
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

    private async Task<ILuaActorsMessage> ListAsync()
    {
        var specs = await _registry.AllAsync().ConfigureAwait(false);
        var infos = await Task.WhenAll(specs.Values.Select(async spec =>
        {
            try
            {
                return await _region.Ask<object>(new GetVmInfo(spec.VmId), _settings.ListTimeout).ConfigureAwait(false) as VmInfo
                    ?? Unresponsive(spec, "no info");
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return Unresponsive(spec, "did not answer in time");
            }
        })).ConfigureAwait(false);
        return new VmList(infos.OrderBy(v => v.VmId, StringComparer.Ordinal).ToArray());
    }

    private async Task<ILuaActorsMessage> RemoveAllAsync()
    {
        var specs = await _registry.AllAsync().ConfigureAwait(false);
        var removed = await Task.WhenAll(specs.Keys.Select(async id =>
        {
            try
            {
                return await _region.Ask<object>(new RemoveVm(id), _settings.ListTimeout + _settings.ListTimeout).ConfigureAwait(false) is VmRemoved;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return false;
            }
        })).ConfigureAwait(false);
        return new AllVmsShutDown(removed.Count(ok => ok));
    }

    private void CollectAsync(IActorRef replyTo, Task<ILuaActorsMessage> work) =>
        work.PipeTo(
            Self,
            success: reply => new Collected(replyTo, reply),
            failure: error => new Collected(replyTo, new RequestFailed("", ErrorKind.Stopped, error.GetBaseException().Message)));

    private static VmInfo Unresponsive(VmSpec spec, string why) =>
        new(spec.VmId, spec.Type, VmState.Unresponsive, null, "", 0, 0, null, 0, why);
}
