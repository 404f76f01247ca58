using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using LuaActors.Backends;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors;

/// <summary>
/// Turns a VM spec into the backend of its type. Types are the entries of
/// <c>luaactors.vm-types</c>; each names a backend kind (<c>process</c>, <c>xcpng-stub</c>), so a
/// new interpreter is configuration. It takes specs the manager has validated (<see cref="Vm.VmSpecRules"/>).
/// </summary>
public sealed class VmFactoryActor : ReceiveActor
{
    /// <summary>Build the backend of <see cref="Spec"/>'s type (the spec's own rules were checked by the manager).</summary>
    public sealed record ResolveBackend(VmSpec Spec);

    /// <summary>The reply to <see cref="ResolveBackend"/> when the spec is good (else a <see cref="RequestFailed"/>).</summary>
    public sealed record BackendResolved(IVmBackend Backend);

    /// <summary>
    /// Kill every idle spare process, then tell <paramref name="ReplyTo"/> <paramref name="Reply"/>:
    /// the end of a shutdown of every VM, which must leave no process behind.
    /// </summary>
    public sealed record DropSpareProcesses(IActorRef ReplyTo, object Reply);

    private readonly Config _types;
    private readonly NetworkingSettings? _networking;
    private readonly int _reservedFds;
    private readonly Dictionary<string, IVmBackend> _sharedBackends = new(StringComparer.Ordinal);

    /// <param name="vmTypes"><c>luaactors.vm-types</c>.</param>
    /// <param name="networking"><c>luaactors.vm.networking</c>: the ports the kernel lets a networking VM use.</param>
    /// <param name="reservedFds"><c>luaactors.capacity.reserved-fds</c>: descriptors kept for the node besides its VMs.</param>
    public VmFactoryActor(Config vmTypes, NetworkingSettings? networking = null, int reservedFds = Process.FdBudget.DefaultReserve)
    {
        _types = vmTypes;
        _networking = networking;
        _reservedFds = reservedFds;
        Receive<ResolveBackend>(resolve => Sender.Tell(Resolve(resolve.Spec)));
        Receive<DropSpareProcesses>(drop =>
        {
            foreach (var backend in _sharedBackends.Values.OfType<ProcessBackend>())
            {
                backend.DropSpares();
            }

            drop.ReplyTo.Tell(drop.Reply);
        });
    }

    protected override void PreStart()
    {
        // Library start: descriptors are what limits how many VMs this node holds, so take all
        // the hard limit allows, and say how many that is.
        Process.FdBudget.Start(_reservedFds);
        Context.GetLogger().Info("VM capacity: {0}", Process.VmCapacity.Describe());
    }

    protected override void PostStop()
    {
        // Their spare processes go with the factory (VMs' own processes go with their actors).
        foreach (var backend in _sharedBackends.Values.OfType<IDisposable>())
        {
            backend.Dispose();
        }
    }

    public static Props Props(Config config)
    {
        var types = config.GetConfig("luaactors.vm-types") ?? Config.Empty;
        var vm = config.GetConfig("luaactors.vm");
        var networking = vm is not null && vm.HasPath("networking") ? NetworkingSettings.From(vm) : null;
        var reservedFds = config.GetInt("luaactors.capacity.reserved-fds", Process.FdBudget.DefaultReserve);
        if (reservedFds < 0)
        {
            throw new ConfigurationException($"luaactors.capacity.reserved-fds must not be negative (got {reservedFds}).");
        }

        return Akka.Actor.Props.Create(() => new VmFactoryActor(types, networking, reservedFds));
    }

    /// <summary>The configured type names.</summary>
    public static IReadOnlyList<string> TypeNames(Config config) =>
        config.GetConfig("luaactors.vm-types")?.Root.GetObject().Items.Keys.ToList() ?? [];

    private object Resolve(VmSpec spec)
    {
        var typeConfig = _types.HasPath(spec.Type) ? _types.GetConfig(spec.Type) : null;
        if (typeConfig is null)
        {
            var known = string.Join(", ", _types.Root.GetObject().Items.Keys);
            return new RequestFailed(spec.VmId, ErrorKind.UnknownType, $"unknown VM type '{spec.Type}' (configured types: {known})");
        }

        try
        {
            return new BackendResolved(Build(spec, typeConfig));
        }
        catch (Exception e) when (e is ArgumentException or ConfigurationException)
        {
            return new RequestFailed(spec.VmId, ErrorKind.InvalidSpec, e.Message);
        }
    }

    private IVmBackend Build(VmSpec spec, Config typeConfig)
    {
        var kind = typeConfig.GetString("backend", "");
        switch (kind)
        {
            case "process":
                if (spec.Config.Count > 0)
                {
                    throw new ArgumentException(
                        $"VM type '{spec.Type}' takes no config entries (got: {string.Join(", ", spec.Config.Keys)})");
                }

                // Process backends hold no per-VM state: one per type.
                if (!_sharedBackends.TryGetValue(spec.Type, out var shared))
                {
                    var log = Logging.GetLogger(Context.System, typeof(ProcessBackend));
                    var type = spec.Type;
                    var process = new ProcessBackend(spec.Type, typeConfig, _networking)
                    {
                        // From a start's task: the logger publishes to the event stream, which is thread-safe.
                        LayersMissing = missing => log.Warning(
                            "VM type {0}: this kernel lacks confinement layer(s) {1}; its VMs run without them (docs/guarantees.md, Confinement)",
                            type, string.Join(", ", missing)),
                    };
                    if (process.ConfinementUnavailable)
                    {
                        Context.GetLogger().Warning(
                            "VM type {0}: confinement is on but its processes start through the exec chain, which applies no kernel layer; build {1} (a C compiler) for it",
                            spec.Type, Process.Spawner.FileName);
                    }

                    if (process.SandboxOff)
                    {
                        Context.GetLogger().Warning(
                            "VM type {0}: {1} is on: its scripts get the full standard library (files, programs, sockets) and only the kernel confinement stands. For tests only",
                            spec.Type, ProcessBackend.UnsafeSandboxOffKey);
                    }

                    if (process.SpawnerMissing)
                    {
                        // Slower starts, same guarantees: worth a word, not a refusal.
                        Context.GetLogger().Warning(
                            "VM type {0}: {1} was not built beside the library (no C compiler?); its processes start through the exec chain",
                            spec.Type, Process.Spawner.FileName);
                    }

                    shared = process;
                    _sharedBackends[spec.Type] = shared;
                }

                return shared;
            case "xcpng-stub":
                return new XcpngStubBackend(spec.Type, spec.Config);
            default:
                throw new ConfigurationException(
                    $"luaactors.vm-types.{spec.Type}.backend is '{kind}'; known backends: process, xcpng-stub");
        }
    }
}
