using Akka.Actor;
using Akka.Event;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors;

/// <summary>
/// Creates, finds, lists and removes VMs on one actor system with no cluster (embedding,
/// <c>luaactors eval</c>). Each VM is a child <see cref="VmActor"/>; commands for one VM are
/// forwarded to it, so replies go straight back to the asker. In a cluster,
/// <see cref="Cluster.ShardedManagerActor"/> plays this part.
/// </summary>
public sealed class ManagerActor : ReceiveActor
{
    private sealed record ListCollected(IActorRef ReplyTo, VmInfo[] Vms);

    private readonly IActorRef _factory;
    private readonly VmSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SizeLimits _limits = SizeLimits.Of(Context.System);
    private readonly Dictionary<string, IActorRef> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, (string VmId, List<IActorRef> RemoveWaiters)> _stopping = new();
    private readonly Dictionary<IActorRef, string> _idsByRef = new();
    private readonly List<(IActorRef ReplyTo, int Count)> _shutdownWaiters = [];
    private long _childNumber;

    public ManagerActor(IActorRef factory, VmSettings settings)
    {
        _factory = factory;
        _settings = settings;

        Receive<CreateVm>(Create);
        Receive<RemoveVm>(remove => Remove(remove.VmId, Sender));
        Receive<ListVms>(_ => List(Sender));
        Receive<ListCollected>(collected => collected.ReplyTo.Tell(new VmList(collected.Vms)));
        Receive<ShutdownAll>(_ => ShutdownAllVms(Sender));
        Receive<VmActor.VmStartFailed>(OnStartFailed);
        Receive<Terminated>(OnTerminated);
        Receive<IVmCommand>(command =>
        {
            // The same limits as between nodes: a VM answers alike wherever it runs.
            if (_limits.CheckRequest(command) is { } tooLarge)
            {
                Sender.Tell(tooLarge);
            }
            else if (_vms.TryGetValue(command.VmId, out var vm))
            {
                vm.Forward(command);
            }
            else
            {
                Sender.Tell(NotFound(command.VmId));
            }
        });
    }

    public static Props Props(IActorRef factory, VmSettings settings) =>
        Akka.Actor.Props.Create(() => new ManagerActor(factory, settings));

    // A VM actor that throws is restarted with its spec: PreRestart runs PostStop, which kills
    // the old process and fails its requests, and the new instance starts a fresh process.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(Decider.From(Directive.Restart));

    private void Create(CreateVm create)
    {
        var id = create.Spec.VmId ?? "";
        if (_vms.ContainsKey(id))
        {
            Sender.Tell(new RequestFailed(id, ErrorKind.AlreadyExists, $"a VM with id '{id}' already exists"));
            return;
        }

        if (VmFactoryActor.ValidateSpec(create.Spec) is { } problem)
        {
            Sender.Tell(new RequestFailed(id, ErrorKind.InvalidSpec, problem));
            return;
        }

        if (_limits.CheckRequest(create) is { } tooLarge)
        {
            Sender.Tell(tooLarge);
            return;
        }

        // The child's name is unique even while a removed VM of the same id is still stopping.
        var vm = Context.ActorOf(
            VmActor.Props(id, _factory, _settings, registry: null),
            $"vm-{Uri.EscapeDataString(id)}-{++_childNumber}");
        Context.Watch(vm);
        vm.Tell(create, Sender);
        _vms[id] = vm;
        _idsByRef[vm] = id;
    }

    private void OnStartFailed(VmActor.VmStartFailed failed)
    {
        if (_vms.TryGetValue(failed.VmId, out var vm) && vm.Equals(Sender))
        {
            // Forget the id before answering, so the caller can retry with a fixed spec at once.
            _vms.Remove(failed.VmId);
            BeginStop(vm, failed.VmId, null);
        }

        failed.Creator.Tell(failed.Failure);
    }

    private void Remove(string vmId, IActorRef replyTo)
    {
        if (!_vms.Remove(vmId, out var vm))
        {
            replyTo.Tell(NotFound(vmId));
            return;
        }

        BeginStop(vm, vmId, replyTo);
    }

    private void BeginStop(IActorRef vm, string vmId, IActorRef? replyTo)
    {
        if (!_stopping.TryGetValue(vm, out var stopping))
        {
            stopping = (vmId, []);
            _stopping[vm] = stopping;
            Context.Stop(vm);
        }

        if (replyTo is not null)
        {
            stopping.RemoveWaiters.Add(replyTo);
        }
    }

    private void OnTerminated(Terminated terminated)
    {
        var vm = terminated.ActorRef;
        if (_stopping.Remove(vm, out var stopping))
        {
            foreach (var waiter in stopping.RemoveWaiters)
            {
                waiter.Tell(new VmRemoved(stopping.VmId));
            }
        }
        else if (_idsByRef.TryGetValue(vm, out var id) && _vms.TryGetValue(id, out var current) && current.Equals(vm))
        {
            _log.Warning("VM {0} stopped unexpectedly", id);
            _vms.Remove(id);
        }

        _idsByRef.Remove(vm);
        if (_stopping.Count == 0 && _vms.Count == 0)
        {
            foreach (var (replyTo, count) in _shutdownWaiters)
            {
                AnswerShutdown(replyTo, count);
            }

            _shutdownWaiters.Clear();
        }
    }

    private void List(IActorRef replyTo)
    {
        var timeout = _settings.ListTimeout;
        var asks = _vms.Select(async pair =>
        {
            try
            {
                return await pair.Value.Ask<VmInfo>(new GetVmInfo(pair.Key), timeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return new VmInfo(pair.Key, "?", VmState.Unresponsive, null, "", 0, 0, null, 0, "did not answer in time");
            }
        }).ToList();
        Task.WhenAll(asks)
            .ContinueWith(all => new ListCollected(replyTo, all.Result.OrderBy(v => v.VmId, StringComparer.Ordinal).ToArray()),
                TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void ShutdownAllVms(IActorRef replyTo)
    {
        var count = _vms.Count;
        foreach (var (id, vm) in _vms.ToList())
        {
            BeginStop(vm, id, null);
        }

        _vms.Clear();
        if (_stopping.Count == 0)
        {
            AnswerShutdown(replyTo, count);
        }
        else
        {
            _shutdownWaiters.Add((replyTo, count));
        }
    }

    // Every VM is gone: the idle spare processes go too, then the answer (through the factory,
    // which owns them).
    private void AnswerShutdown(IActorRef replyTo, int count) =>
        _factory.Tell(new VmFactoryActor.DropSpareProcesses(replyTo, new AllVmsShutDown(count)));

    private static RequestFailed NotFound(string vmId) =>
        new(vmId, ErrorKind.NotFound, $"no VM with id '{vmId}'");
}
