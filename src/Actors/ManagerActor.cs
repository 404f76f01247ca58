using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using LuaActors.Cluster;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// Creates, finds, lists and removes VMs on one actor system with no cluster (embedding,
/// <c>luaactors eval</c>). It plays the shard region's part locally: commands go to the VM named
/// by the same <see cref="VmMessageExtractor"/>, to a child <see cref="VmActor"/> started on the
/// first message for it, which loads its spec from the <see cref="IVmSpecStore"/> (or answers
/// NotFound and passivates); a passivating child's messages wait for it to stop, then go to a
/// fresh one. Commands are forwarded, so replies go straight back to the asker. In a cluster,
/// <see cref="ShardedManagerActor"/> and the shard region play this part.
/// </summary>
public sealed class ManagerActor : ReceiveActor
{
    private sealed record CreateChecked(CreateVm Create, IActorRef Creator, RequestFailed? Failure);

    private sealed record Collected(IActorRef ReplyTo, ILuaActorsMessage Reply);

    /// <summary>The VMs the store holds at start: each gets its child, which starts it from its spec.</summary>
    private sealed record Revive(IReadOnlyCollection<string> VmIds);

    /// <summary>One shard: every VM of this actor system (the shard id is not used locally).</summary>
    private static readonly VmMessageExtractor Extractor = new(1);

    private readonly IActorRef _factory;
    private readonly VmSettings _settings;
    private readonly IVmSpecStore _specs;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SizeLimits _limits = SizeLimits.Of(Context.System);
    private readonly HashSet<string> _creating = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _idsByRef = new();

    /// <summary>Children that asked to stop, and the messages for their VM that came meanwhile.</summary>
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _passivating = new(StringComparer.Ordinal);
    private long _childNumber;

    public ManagerActor(IActorRef factory, VmSettings settings, IVmSpecStore specs)
    {
        _factory = factory;
        _settings = settings;
        _specs = specs;

        Receive<CreateVm>(create => Create(create, Sender));
        Receive<CreateChecked>(OnCreateChecked);
        Receive<ListVms>(_ => Collect(Sender, VmCatalog.ListAsync(_specs, Self, _settings.ListTimeout)));
        Receive<ShutdownAll>(_ => Collect(Sender, VmCatalog.RemoveAllAsync(_specs, Self, _settings.ListTimeout + _settings.ListTimeout)));
        Receive<Collected>(collected =>
        {
            if (collected.Reply is AllVmsShutDown)
            {
                // Every VM is gone: the idle spare processes go too, then the answer (through the
                // factory, which owns them).
                _factory.Tell(new VmFactoryActor.DropSpareProcesses(collected.ReplyTo, collected.Reply));
            }
            else
            {
                collected.ReplyTo.Tell(collected.Reply);
            }
        });
        Receive<Revive>(revive =>
        {
            foreach (var id in revive.VmIds.Where(id => !_vms.ContainsKey(id) && !_passivating.ContainsKey(id)))
            {
                StartChild(id);
            }
        });
        Receive<Passivate>(OnPassivate);
        Receive<Terminated>(OnTerminated);
        Receive<IVmCommand>(command =>
        {
            // The same limits as between nodes: a VM answers alike wherever it runs.
            if (_limits.CheckRequest(command) is { } tooLarge)
            {
                Sender.Tell(tooLarge);
            }
            else
            {
                Deliver(command, Sender);
            }
        });
    }

    // A durable store's VMs come back with no client call (docs/guarantees.md); an in-memory one
    // is empty at start, or holds the VMs of this actor's previous incarnation.
    protected override void PreStart() =>
        _specs.AllAsync().PipeTo(
            Self,
            success: all => new Revive([.. all.Keys]),
            failure: error =>
            {
                _log.Error(error, "the stored VMs could not be read: none was started again");
                return new Revive([]);
            });

    /// <param name="specs">The VMs' specs; by default in memory, kept across a restart of this actor.</param>
    public static Props Props(IActorRef factory, VmSettings settings, IVmSpecStore? specs = null)
    {
        var store = specs ?? new InMemoryVmSpecStore();
        return Akka.Actor.Props.Create(() => new ManagerActor(factory, settings, store));
    }

    // A VM actor that throws is restarted: PreRestart runs PostStop, which kills the old process
    // and fails its requests, and the new instance loads its spec and starts a fresh process.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(Decider.From(Directive.Restart));

    private void Create(CreateVm create, IActorRef creator)
    {
        var id = create.Spec.VmId ?? "";
        if (VmCreation.Check(create, _limits) is { } refused)
        {
            creator.Tell(refused);
            return;
        }

        if (!_creating.Add(id))
        {
            creator.Tell(new RequestFailed(id, ErrorKind.AlreadyExists, $"a VM with id '{id}' is being created"));
            return;
        }

        // The type is resolved by the VM's actor as it starts (a bad one fails the create there).
        VmCreation.RegisterAsync(create, _specs).PipeTo(
            Self,
            success: failure => new CreateChecked(create, creator, failure),
            failure: error => new CreateChecked(create, creator,
                new RequestFailed(id, ErrorKind.Stopped, "the VM spec store did not answer: " + error.GetBaseException().Message)));
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
            // The VM answers the creator once its process runs.
            Deliver(checkedCreate.Create, checkedCreate.Creator);
        }
    }

    /// <summary>To the VM's child, started if it has none; held while the child stops.</summary>
    private void Deliver(object message, IActorRef sender)
    {
        if (Extractor.EntityId(message) is not { } id)
        {
            Unhandled(message);
            return;
        }

        var entityMessage = Extractor.EntityMessage(message) ?? message;
        if (_passivating.TryGetValue(id, out var held))
        {
            held.Add((entityMessage, sender));
            return;
        }

        if (!_vms.TryGetValue(id, out var vm))
        {
            vm = StartChild(id);
        }

        vm.Tell(entityMessage, sender);
    }

    private IActorRef StartChild(string id)
    {
        // The child's name is unique even while a removed VM of the same id is still stopping.
        var vm = Context.ActorOf(
            VmActor.Props(id, _factory, _settings, _specs, Self),
            $"vm-{Uri.EscapeDataString(id)}-{++_childNumber}");
        Context.Watch(vm);
        _vms[id] = vm;
        _idsByRef[vm] = id;
        return vm;
    }

    /// <summary>A child asks to stop (its VM was removed, or never existed): as a shard does.</summary>
    private void OnPassivate(Passivate passivate)
    {
        if (!_idsByRef.TryGetValue(Sender, out var id) || _passivating.ContainsKey(id))
        {
            return;
        }

        _passivating[id] = [];
        Sender.Tell(passivate.StopMessage);
    }

    private void OnTerminated(Terminated terminated)
    {
        var vm = terminated.ActorRef;
        if (!_idsByRef.Remove(vm, out var id))
        {
            return;
        }

        _vms.Remove(id);
        if (_passivating.Remove(id, out var held))
        {
            // What came while it stopped goes to a fresh child (a create for the same id, say).
            foreach (var (message, sender) in held)
            {
                Deliver(message, sender);
            }
        }
        else
        {
            // Not asked for: like before the store, the VM is gone and its id free again.
            _log.Warning("VM {0} stopped unexpectedly", id);
            _ = _specs.RemoveAsync(id);
        }
    }

    private void Collect(IActorRef replyTo, Task<ILuaActorsMessage> work) =>
        work.PipeTo(
            Self,
            success: reply => new Collected(replyTo, reply),
            failure: error => new Collected(replyTo, new RequestFailed("", ErrorKind.Stopped, error.GetBaseException().Message)));
}
