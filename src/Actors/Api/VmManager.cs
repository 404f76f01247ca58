using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Cluster;
using LuaActors.Configuration;
using LuaActors.Diagnostics;
using LuaActors.Messages;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LuaActors.Api;

/// <summary>
/// The embedding API, shaped like pylua_bioxen_vm_lib's VMManager:
/// <code>
/// await using var manager = await VmManager.StartAsync();
/// var vm = await manager.CreateVmAsync("vm1");
/// var four = await vm.ExecuteAsync&lt;double&gt;("return math.sqrt(16)");
/// </code>
/// Every call is an ask to the <see cref="ManagerActor"/> (an execute, once its VM answered from
/// this node, goes to the VM's actor directly: VmManager.Execute.cs); failures are typed
/// <see cref="LuaActorsException"/>s. A VM id that breaks the grammar (<see cref="Messages.VmId"/>)
/// fails with <see cref="InvalidVmRequestException"/> before any actor is asked. After
/// <see cref="DisposeAsync"/> (or once the actor system is terminated) every call fails at once
/// with <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed partial class VmManager : IAsyncDisposable
{
    private readonly IHost? _host;
    private readonly TimeSpan _askMargin;
    private readonly TimeSpan _askTimeout;
    private readonly TimeSpan _defaultTimeout;
    private readonly Lazy<Task> _disposal;
    private int _disposed;

    private VmManager(ActorSystem system, IActorRef manager, IHost? host)
    {
        System = system;
        Manager = manager;
        _host = host;
        var config = system.Settings.Config.WithFallback(LuaActorsConfig.Default);
        _askMargin = config.GetTimeSpan("luaactors.api.ask-margin");
        _askTimeout = config.GetTimeSpan("luaactors.api.ask-timeout");
        _defaultTimeout = config.GetTimeSpan("luaactors.vm.default-timeout");
        _disposal = new Lazy<Task>(DisposeOnceAsync);
    }

    /// <summary>
    /// The time limit of a request that gives none (<see cref="ExecuteOptions.TimeoutMs"/>) on a
    /// VM created without one (<see cref="VmLimits.TimeoutMs"/>): <c>luaactors.vm.default-timeout</c>,
    /// 5 s unless configured.
    /// </summary>
    public TimeSpan DefaultTimeout => _defaultTimeout;

    /// <summary>Whether <see cref="DisposeAsync"/> was called or the actor system terminated: every call fails then.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0 || System.WhenTerminated.IsCompleted;

    public ActorSystem System { get; }

    /// <summary>The <see cref="ManagerActor"/> every call goes to.</summary>
    public IActorRef Manager { get; }

    /// <summary>
    /// Starts an actor system of its own with the factory and manager actors, through the same
    /// Akka.Hosting wiring as an application's host (<c>AddAkka(name, b =&gt; b.WithLuaActors(options))</c>);
    /// disposing stops it. It handles no signals (the application owns them).
    /// </summary>
    /// <exception cref="ConfigurationException">
    /// <see cref="VmManagerOptions.Config"/> is not HOCON that stands on its own, or a LuaActors key
    /// is out of range (<see cref="LuaActorsConfigurationException"/>).
    /// </exception>
    public static async Task<VmManager> StartAsync(VmManagerOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options ??= new VmManagerOptions();
        var hocon = string.IsNullOrWhiteSpace(options.Config) ? null : LuaActorsConfig.Parse(options.Config, "the LuaActors config");
        var luaActors = options.LuaActors ?? new LuaActorsOptions();
        luaActors.Validate();
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.Services.AddAkka(options.SystemName, akka =>
        {
            if (hocon is not null)
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }

            akka.WithLuaActors(luaActors);
        });
        var host = builder.Build();
        await host.StartLuaActorsHostAsync(cancellationToken).ConfigureAwait(false);
        var system = host.Services.GetRequiredService<ActorSystem>();
        return new VmManager(system, ActorRegistry.For(system).Get<ManagerActor>(), host);
    }

    /// <summary>Wraps a manager actor that runs in an actor system the application owns (Akka.Hosting).</summary>
    public static VmManager ForActorSystem(ActorSystem system, IActorRef manager) => new(system, manager, host: null);

    /// <summary>
    /// Starts the factory and manager actors in <paramref name="system"/>: VMs as children of a
    /// local <see cref="ManagerActor"/>, or, when the system is a cluster
    /// (<c>akka.actor.provider = cluster</c>), as sharded entities behind a
    /// <see cref="ShardedManagerActor"/> on this node.
    /// </summary>
    public static IActorRef SpawnActors(ActorSystem system, Config config)
    {
        var settings = VmSettings.From(config);
        _ = SizeLimits.Of(system); // checked at start-up, not at the first request
        var factory = system.ActorOf(VmFactoryActor.Props(config), "vm-factory");
        system.ActorOf(UndeliveredRequestsActor.Props(), "vm-undelivered");
        return IsCluster(system)
            ? VmSharding.Start(system, config, factory, settings)
            : system.ActorOf(ManagerActor.Props(factory, settings, Persistence.LuaActorsPersistence.Get(system).StartLocalStore()), "vm-manager");
    }

    /// <summary>Whether <paramref name="system"/> runs Akka.Cluster.</summary>
    public static bool IsCluster(ActorSystem system) =>
        ((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider;

    /// <summary>
    /// Creates VM <paramref name="vmId"/> and returns its handle once its process answers (and its
    /// init script ran). Without <see cref="VmLimits.TimeoutMs"/>, each request on it may run
    /// <see cref="DefaultTimeout"/> (5 s by default).
    /// </summary>
    public async Task<LuaVm> CreateVmAsync(string vmId, VmOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckId(vmId);
        var spec = (options ?? new VmOptions()).ToSpec(vmId);
        var timeout = TimeSpan.FromMilliseconds(spec.Limits.TimeoutMs ?? _defaultTimeout.TotalMilliseconds) + _askTimeout;
        await AskAsync<VmCreated>(new CreateVm(spec), timeout, cancellationToken).ConfigureAwait(false);
        return new LuaVm(this, vmId);
    }

    /// <summary>A handle on an existing VM (no round trip; an unknown id fails at first use).</summary>
    public LuaVm GetVm(string vmId)
    {
        CheckId(vmId);
        return new LuaVm(this, vmId);
    }

    /// <summary>
    /// Runs <paramref name="code"/> as a chunk and returns what it returned and printed. It may run
    /// <see cref="ExecuteOptions.TimeoutMs"/>, else the VM's own limit, else
    /// <see cref="DefaultTimeout"/> (5 s by default); then it fails with a <see cref="LuaException"/>
    /// of kind Timeout and the VM keeps its state.
    /// </summary>
    public Task<ExecuteResult> ExecuteAsync(
        string vmId, string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecuteTracedAsync(vmId, code, ExecuteMode.Chunk, options, cancellationToken);

    /// <summary>
    /// Runs <paramref name="code"/> like <see cref="ExecuteAsync(string, string, ExecuteOptions?, CancellationToken)"/>
    /// (or <see cref="EvalAsync"/> for <see cref="ExecuteMode.Repl"/>) but returns a Lua error as
    /// a value instead of throwing it: the HTTP API answers it as a result. Other failures throw.
    /// </summary>
    internal async Task<(Executed? Result, LuaException? LuaError)> ExecuteOutcomeAsync(
        string vmId, string code, ExecuteMode mode, ExecuteOptions? options, CancellationToken cancellationToken)
    {
        CheckId(vmId);
        ThrowIfDisposed();
        // Traced like ExecuteAsync: the HTTP request's span is the parent, the VM's node continues it.
        using var activity = LuaActorsTracing.StartExecute(vmId, mode);
        try
        {
            var reply = await SendExecuteAsync(
                new Execute(vmId, code, mode, options?.TimeoutMs, options?.MemoryMb, LuaActorsTracing.Current()),
                RequestTimeout(options), cancellationToken).ConfigureAwait(false);
            if (reply is RequestFailed { } refused && LuaActorsException.From(refused) is LuaException luaError)
            {
                LuaActorsTracing.Failed(activity, luaError);
                return (null, luaError);
            }

            return reply switch
            {
                // As the VM sent it: the HTTP API writes it out without another copy.
                Executed executed => (executed, null),
                RequestFailed failed => throw LuaActorsException.From(failed),
                _ => throw new InvalidOperationException($"unexpected reply {reply.GetType().Name} to Execute"),
            };
        }
        catch (Exception e)
        {
            LuaActorsTracing.Failed(activity, e);
            throw;
        }
    }

    /// <summary>Runs <paramref name="code"/> and converts its first value to <typeparamref name="T"/>.</summary>
    public async Task<T?> ExecuteAsync<T>(
        string vmId, string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(vmId, code, options, cancellationToken).ConfigureAwait(false)).Get<T>();

    /// <summary>Evaluates a REPL line like <c>lua -i</c>: an expression shows its value, a statement runs.</summary>
    public Task<ExecuteResult> EvalAsync(
        string vmId, string line, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecuteTracedAsync(vmId, line, ExecuteMode.Repl, options, cancellationToken);

    public Task<VmInfo> GetVmInfoAsync(string vmId, CancellationToken cancellationToken = default) =>
        AskAsync<VmInfo>(new GetVmInfo(vmId), _askTimeout, cancellationToken);

    public async Task<IReadOnlyList<VmInfo>> ListVmsAsync(CancellationToken cancellationToken = default) =>
        (await AskAsync<VmList>(ListVms.Instance, _askTimeout, cancellationToken).ConfigureAwait(false)).Vms;

    /// <summary>Stops the VM and its process; returns once the process is gone.</summary>
    public Task RemoveVmAsync(string vmId, CancellationToken cancellationToken = default)
    {
        ForgetLocalVm(vmId ?? "");
        return AskAsync<VmRemoved>(new RemoveVm(vmId!), _askTimeout, cancellationToken);
    }

    public Task ResetVmAsync(string vmId, CancellationToken cancellationToken = default) =>
        AskAsync<VmWasReset>(new ResetVm(vmId), RequestTimeout(null), cancellationToken);

    public Task<VmPong> PingVmAsync(string vmId, CancellationToken cancellationToken = default) =>
        AskAsync<VmPong>(new PingVm(vmId), RequestTimeout(null), cancellationToken);

    /// <summary>
    /// Attaches an interactive session to the VM (several may be attached at once, from any
    /// node). Dispose it, or <see cref="VmSession.DetachAsync"/>, to leave.
    /// </summary>
    public async Task<VmSession> AttachAsync(string vmId, CancellationToken cancellationToken = default)
    {
        CheckId(vmId);
        ThrowIfDisposed();
        var sessionId = "s-" + Guid.NewGuid().ToString("N")[..8];
        var events = Channel.CreateUnbounded<ILuaActorsMessage>(new UnboundedChannelOptions { SingleReader = true });
        var attached = new TaskCompletionSource<SessionAttached>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = System.ActorOf(
            Sessions.SessionActor.Props(vmId, sessionId, Manager, events.Writer, attached, ended), "session-" + sessionId);
        try
        {
            var reply = await attached.Task.WaitAsync(_askTimeout, cancellationToken).ConfigureAwait(false);
            return new VmSession(this, vmId, sessionId, actor, events.Reader, ended.Task, _askTimeout, reply.Sessions);
        }
        catch
        {
            System.Stop(actor);
            throw;
        }
    }

    /// <summary>Removes every VM; returns how many there were, once their processes are gone.</summary>
    public async Task<int> ShutdownAllAsync(CancellationToken cancellationToken = default) =>
        (await AskAsync<AllVmsShutDown>(ShutdownAll.Instance, _askTimeout, cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>
    /// Removes this manager's VMs and stops its actor system (when it started it; in a cluster the
    /// node leaves and its VMs move to the others). Once only: a second call returns the first
    /// one's task.
    /// </summary>
    public ValueTask DisposeAsync() => new(_disposal.Value);

    private async Task DisposeOnceAsync()
    {
        Volatile.Write(ref _disposed, 1);
        if (_host is null)
        {
            return;
        }

        // With persistence on, the VMs are desired state: they come back at the next start.
        if (!System.WhenTerminated.IsCompleted && !IsCluster(System) && !Persistence.LuaActorsPersistence.Get(System).Settings.IsDurable)
        {
            try
            {
                await AskUncheckedAsync<AllVmsShutDown>(ShutdownAll.Instance, _askTimeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or LuaActorsException)
            {
                // Terminating the system stops the VM actors, which kill their processes anyway.
            }
        }

        // The host stops Akka with CoordinatedShutdown: in a cluster the node leaves and its VMs
        // are handed over to the others, not removed.
        await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await System.WhenTerminated.ConfigureAwait(false);
        _host.Dispose();
    }

    /// <summary>The embedded host leaves SIGINT/SIGTERM to the application (Akka's exit hook still leaves a cluster).</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// An execute in its own span (when traces are collected), whose context goes with the
    /// message to the VM's node (docs/operations.md, "Traces").
    /// </summary>
    private async Task<ExecuteResult> ExecuteTracedAsync(
        string vmId, string code, ExecuteMode mode, ExecuteOptions? options, CancellationToken cancellationToken)
    {
        using var activity = LuaActorsTracing.StartExecute(vmId, mode);
        try
        {
            CheckId(vmId);
            ThrowIfDisposed();
            var reply = await SendExecuteAsync(
                new Execute(vmId, code, mode, options?.TimeoutMs, options?.MemoryMb, LuaActorsTracing.Current()),
                RequestTimeout(options), cancellationToken).ConfigureAwait(false);
            return reply switch
            {
                Executed executed => new ExecuteResult(executed),
                RequestFailed failed => throw LuaActorsException.From(failed),
                _ => throw new InvalidOperationException($"unexpected reply {reply.GetType().Name} to Execute"),
            };
        }
        catch (Exception e)
        {
            LuaActorsTracing.Failed(activity, e);
            throw;
        }
    }

    private TimeSpan RequestTimeout(ExecuteOptions? options) =>
        (options?.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : _defaultTimeout) + _askMargin;

    /// <summary>Throws <see cref="InvalidVmRequestException"/> for an id outside the grammar.</summary>
    internal static void CheckId(string vmId)
    {
        if (Messages.VmId.Problem(vmId) is { } problem)
        {
            throw new InvalidVmRequestException(vmId ?? "", problem);
        }
    }

    internal void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(nameof(VmManager),
                "this VmManager was disposed (or its actor system terminated): start a new one");
        }
    }

    private Task<T> AskAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (message is IVmCommand command)
        {
            CheckId(command.VmId);
        }

        ThrowIfDisposed();
        return AskUncheckedAsync<T>(message, timeout, cancellationToken);
    }

    private async Task<T> AskUncheckedAsync<T>(object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = await Manager.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            T expected => expected,
            RequestFailed failed => throw LuaActorsException.From(failed),
            _ => throw new InvalidOperationException($"unexpected reply {reply.GetType().Name} to {message.GetType().Name}"),
        };
    }
}
