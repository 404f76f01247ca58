using Akka.Actor;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// What the local <see cref="ManagerActor"/> and the cluster's <see cref="Cluster.ShardedManagerActor"/>
/// do alike, written once (as Akka.Cluster.Sharding shares its shard logic with its local
/// fallback): a create is checked (<see cref="VmCreation.Check"/>), one at a time per id, then
/// registered (<see cref="RegisterAsync"/>), then placed (<see cref="Place"/>), and the VM
/// answers its creator once its process runs; ListVms and ShutdownAll ask every VM of the spec
/// store through the <see cref="Router"/> (<see cref="VmCatalog"/>); every other command is
/// size-checked like a request between nodes, then delivered.
/// </summary>
/// <remarks>
/// The two differences are the strategy points: a cluster resolves the type and waits for every
/// region before it registers; a VM is a child of the local manager, a relay into the region in a cluster.
/// </remarks>
public abstract class VmManagerActorBase : ReceiveActor
{
    private sealed record CreateChecked(CreateVm Create, IActorRef Creator, RequestFailed? Failure);

    private sealed record Collected(IActorRef ReplyTo, ILuaActorsMessage Reply);

    /// <summary>Ids whose create is being registered: a second create for one of them is refused.</summary>
    private readonly HashSet<string> _creating = new(StringComparer.Ordinal);

    protected VmManagerActorBase(IActorRef factory, VmSettings settings, IVmSpecStore specs)
    {
        Factory = factory;
        Settings = settings;
        Specs = specs;

        Receive<CreateVm>(create => Create(create, Sender));
        Receive<CreateChecked>(OnCreateChecked);
        Receive<ListVms>(_ => Collect(Sender, VmCatalog.ListAsync(Specs, Router, Settings.ListTimeout)));
        Receive<ShutdownAll>(_ => Collect(Sender, VmCatalog.RemoveAllAsync(Specs, Router, Settings.ListTimeout + Settings.ListTimeout)));
        Receive<Collected>(collected =>
        {
            if (collected.Reply is AllVmsShutDown)
            {
                // Every VM is gone: the idle spare processes of this node go too (the pool refills
                // with the next VM start), then the answer (through the factory, which owns them).
                Factory.Tell(new VmFactoryActor.DropSpareProcesses(collected.ReplyTo, collected.Reply));
            }
            else
            {
                collected.ReplyTo.Tell(collected.Reply);
            }
        });
    }

    protected IActorRef Factory { get; }

    protected VmSettings Settings { get; }

    protected IVmSpecStore Specs { get; }

    /// <summary>The same limits as between nodes: a VM answers alike wherever it runs.</summary>
    protected SizeLimits Limits { get; } = SizeLimits.Of(Context.System);

    /// <summary>Where a command for a VM goes to be answered by it: the manager itself, or the shard region.</summary>
    protected abstract IActorRef Router { get; }

    /// <summary>What a failed registration calls the spec store.</summary>
    protected abstract string SpecStoreName { get; }

    /// <summary>Refuses a duplicate (and, in a cluster, a bad type) and stores the spec; null once stored.</summary>
    protected abstract Task<RequestFailed?> RegisterAsync(CreateVm create);

    /// <summary>Sends the registered create to the VM's actor, which answers <paramref name="creator"/>.</summary>
    protected abstract void Place(CreateVm create, IActorRef creator);

    /// <summary>
    /// Commands of type <typeparamref name="T"/> for a VM: refused when too large, else given to
    /// <paramref name="deliver"/> with their sender. Register these last: they catch what is left.
    /// </summary>
    protected void ReceiveVmCommands<T>(Action<T, IActorRef> deliver)
        where T : class, IVmCommand =>
        Receive<T>(command =>
        {
            if (Limits.CheckRequest(command) is { } tooLarge)
            {
                Sender.Tell(tooLarge);
            }
            else
            {
                deliver(command, Sender);
            }
        });

    private void Create(CreateVm create, IActorRef creator)
    {
        var id = create.Spec.VmId ?? "";
        if (VmCreation.Check(create, Limits, Storage.StorageSettings.Of(Context.System)) is { } refused)
        {
            creator.Tell(refused);
            return;
        }

        if (!_creating.Add(id))
        {
            creator.Tell(new RequestFailed(id, ErrorKind.AlreadyExists, $"a VM with id '{id}' is being created"));
            return;
        }

        RegisterAsync(create).PipeTo(
            Self,
            success: failure => new CreateChecked(create, creator, failure),
            failure: error => new CreateChecked(create, creator,
                new RequestFailed(id, ErrorKind.Stopped, $"{SpecStoreName} did not answer: " + error.GetBaseException().Message)));
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
            Place(checkedCreate.Create, checkedCreate.Creator);
        }
    }

    private void Collect(IActorRef replyTo, Task<ILuaActorsMessage> work) =>
        work.PipeTo(
            Self,
            success: reply => new Collected(replyTo, reply),
            failure: error => new Collected(replyTo, new RequestFailed("", ErrorKind.Stopped, error.GetBaseException().Message)));
}
