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
public sealed class ManagerActor : VmManagerActorBase
{
    /// <summary>The VMs the store holds at start: each gets its child, which starts it from its spec.</summary>
    private sealed record Revive(IReadOnlyCollection<string> VmIds);

    /// <summary>One shard: every VM of this actor system (the shard id is not used locally).</summary>
    private static readonly VmMessageExtractor Extractor = new(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _idsByRef = new();

    /// <summary>Children that asked to stop, and the messages for their VM that came meanwhile.</summary>
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _passivating = new(StringComparer.Ordinal);
    private long _childNumber;

    public ManagerActor(IActorRef factory, VmSettings settings, IVmSpecStore specs)
        : base(factory, settings, specs)
    {
        Receive<Revive>(revive =>
        {
            foreach (var id in revive.VmIds.Where(id => !_vms.ContainsKey(id) && !_passivating.ContainsKey(id)))
            {
                StartChild(id);
            }
        });
        Receive<Passivate>(OnPassivate);
        Receive<Terminated>(OnTerminated);
        ReceiveVmCommands<IVmCommand>(Deliver);
    }

    // A durable store's VMs come back with no client call (docs/guarantees.md); an in-memory one
    // is empty at start, or holds the VMs of this actor's previous incarnation.
    protected override void PreStart() =>
        Specs.AllAsync().PipeTo(
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

    protected override IActorRef Router => Self;

    protected override string SpecStoreName => "the VM spec store";

    /// <summary>A duplicate is refused; the type is resolved by the VM's actor as it starts (a bad one fails the create there).</summary>
    protected override Task<RequestFailed?> RegisterAsync(CreateVm create) => VmCreation.RegisterAsync(create, Specs);

    /// <summary>To the VM's child, which answers the creator once its process runs.</summary>
    protected override void Place(CreateVm create, IActorRef creator) => Deliver(create, creator);

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
            VmActor.Props(id, Factory, Settings, Specs, Self),
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
            _ = Specs.RemoveAsync(id);
        }
    }
}
