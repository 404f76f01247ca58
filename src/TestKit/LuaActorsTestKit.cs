using System.Text.Json;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Hosting;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Akka.TestKit.Xunit2.Internals;
using LuaActors.Api;
using LuaActors.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace LuaActors.TestKit;

/// <summary>
/// An Akka.NET TestKit (xunit 2) whose actor system runs LuaActors, started the way an
/// application starts it: a Generic Host with <c>AddAkka(…).WithLuaActors()</c>. Every test gets
/// its own actor system, a <see cref="Manager"/> on it, the usual TestKit tools
/// (<c>TestActor</c>, <c>ExpectMsgAsync</c>, <c>CreateTestProbe</c>, <c>AwaitAssertAsync</c>), and
/// assertions for Lua results and typed errors (<see cref="LuaAssert"/>). After each test the host
/// stops, which kills every VM process, and the test fails if one of them is still alive.
/// <code>
/// public sealed class RulesTests() : LuaActorsTestKit("luaactors.vm.default-timeout = 2s")
/// {
///     [Fact]
///     public async Task Doubles()
///     {
///         var vm = await CreateVmAsync("function f(x) return 2 * x end");
///         await AssertLuaAsync(vm, "return f(2)", 4);
///     }
/// }
/// </code>
/// </summary>
/// <remarks>
/// The actor system starts in the constructor (as with Akka.TestKit's own TestKit), so the
/// <c>Configure…</c> hooks run before a derived class's constructor body: they may use the
/// derived class's field initializers and primary-constructor parameters, not fields its
/// constructor body sets.
/// </remarks>
/// <param name="config">HOCON over LuaActors' defaults (hocon/luaactors.conf), e.g. <c>luaactors.vm.default-timeout = 2s</c>.</param>
/// <param name="output">xunit's output helper: the actor system's log goes there.</param>
/// <param name="actorSystemName">The actor system's name ("test" by default).</param>
public abstract class LuaActorsTestKit(string? config = null, ITestOutputHelper? output = null, string? actorSystemName = null)
    : TestKitBase(Assertions), IAsyncLifetime
{
    // Set before TestKitBase's constructor runs InitializeTest: field initializers run first.
    private readonly string? _config = config;
    private readonly ITestOutputHelper? _output = output;
    private readonly string _actorSystemName = actorSystemName ?? "test";
    private IHost? _host;
    private VmManager? _manager;
    private int _vmCount;

    /// <summary>Assertions in xunit's terms for the TestKit's own Expect… methods.</summary>
    protected static XunitAssertions Assertions { get; } = new();

    /// <summary>The Generic Host that runs the actor system (its services: <c>Host.Services</c>).</summary>
    public IHost Host => _host ?? throw new InvalidOperationException("the host is not started yet");

    /// <summary>The embedding API over this test's actor system: create VMs, execute, attach…</summary>
    public VmManager Manager => _manager ??= Sys.GetVmManager();

    /// <summary>
    /// How long the helpers wait for something a VM does by itself (a message to its host, an
    /// inbox message, session output) when the call gives no time: 10 s by default. A wait, not a
    /// measurement: the helpers return as soon as the thing happens.
    /// </summary>
    protected virtual TimeSpan DefaultWait => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Adds LuaActors to the actor system: <c>builder.WithLuaActors()</c>. Override it to pass
    /// settings another way (HOCON through <c>builder.AddHocon</c>, or an options overload);
    /// call the base or WithLuaActors yourself, or no manager is started.
    /// </summary>
    protected virtual void ConfigureLuaActors(AkkaConfigurationBuilder builder) => builder.WithLuaActors();

    /// <summary>Anything else the application's actor system has (its own actors, through <c>builder.WithActors</c>).</summary>
    protected virtual void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider services)
    {
    }

    /// <summary>The application's services, registered beside the actor system.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>
    /// Starts the host (and with it the actor system) instead of letting the TestKit create a
    /// bare actor system; the TestKit then runs on the host's system.
    /// </summary>
    protected sealed override void InitializeTest(ActorSystem system, ActorSystemSetup config, string actorSystemName, string testActorName)
    {
        _host = BuildHost();
        try
        {
            // Off xunit's synchronization context: the host's start-up must not need this thread.
            Task.Run(() => _host.StartAsync()).GetAwaiter().GetResult();
        }
        catch
        {
            // A half-started actor system must not outlive the failed test.
            _host.Dispose();
            throw;
        }

        var hosted = _host.Services.GetRequiredService<ActorSystem>();
        base.InitializeTest(hosted, config, actorSystemName, testActorName);
        if (_output is not null)
        {
            var logger = ((ExtendedActorSystem)hosted).SystemActorOf(Props.Create(() => new TestOutputLogger(_output)), "log-test");
            logger.Ask<Akka.Event.LoggerInitialized>(new Akka.Event.InitializeLogger(hosted.EventStream), TimeSpan.FromSeconds(10))
                .GetAwaiter().GetResult();
        }
    }

    private IHost BuildHost()
    {
        var builder = new HostBuilder();
        builder.ConfigureServices(services =>
        {
            ConfigureServices(services);
            services.AddAkka(_actorSystemName, (akka, provider) =>
            {
                if (!string.IsNullOrWhiteSpace(_config))
                {
                    akka.AddHocon(ConfigurationFactory.ParseString(_config), HoconAddMode.Prepend);
                }

                // The TestKit's own settings (akka.test.*) under everything else.
                akka.AddHocon(DefaultConfig, HoconAddMode.Append);
                akka.ConfigureLoggers(loggers =>
                {
                    loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
                    loggers.ClearLoggers();
                    // EventFilter works through this logger, as in any Akka TestKit.
                    loggers.AddLogger<TestEventListener>();
                });
                ConfigureLuaActors(akka);
                ConfigureAkka(akka, provider);
            });
        });
        return builder.Build();
    }

    /// <summary>Runs after the constructor, before the test: nothing by default.</summary>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// Stops the host: its CoordinatedShutdown terminates the actor system, whose VM actors kill
    /// their processes. Then waits until every VM process the test had is gone, and fails the
    /// test if one outlived the actor system (after killing it, so none is left behind).
    /// </summary>
    public virtual async Task DisposeAsync()
    {
        if (_host is null)
        {
            return;
        }

        var pids = await VmProcessIdsAsync().ConfigureAwait(false);
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await Sys.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        finally
        {
            _host.Dispose();
        }

        var left = await VmProcesses.WaitGoneAsync(pids, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (left.Count > 0)
        {
            VmProcesses.Kill(left);
            throw new LuaAssertException(
                $"VM processes outlived the actor system: {string.Join(", ", left)} (killed now)");
        }
    }

    /// <summary>The processes of the VMs this test's manager knows (those not running have none).</summary>
    private async Task<IReadOnlyList<int>> VmProcessIdsAsync()
    {
        if (Sys.WhenTerminated.IsCompleted)
        {
            return [];
        }

        try
        {
            var vms = await Manager.ListVmsAsync().ConfigureAwait(false);
            return vms.Where(vm => vm.ProcessId is not null).Select(vm => vm.ProcessId!.Value).ToList();
        }
        catch (Exception e) when (e is LuaActorsException or AskTimeoutException or ObjectDisposedException)
        {
            // Nothing to list: the manager is gone with its VMs.
            return [];
        }
    }

    /// <summary>
    /// Creates a VM and returns once its process answers and <paramref name="initScript"/> ran
    /// (an init script that fails throws <see cref="InvalidVmSpecException"/> of kind InitFailed).
    /// </summary>
    /// <param name="initScript">Lua run after every (re)start: the functions and state under test.</param>
    /// <param name="options">Type, limits, networking; its init script is replaced by <paramref name="initScript"/> when both are given.</param>
    /// <param name="vmId">The VM's id; "vm-1", "vm-2"… by default.</param>
    protected Task<LuaVm> CreateVmAsync(string? initScript = null, VmOptions? options = null, string? vmId = null)
    {
        options ??= new VmOptions();
        if (initScript is not null)
        {
            options = options with { InitScript = initScript };
        }

        return Manager.CreateVmAsync(vmId ?? $"vm-{Interlocked.Increment(ref _vmCount)}", options);
    }

    /// <inheritdoc cref="LuaAssert.ReturnsAsync(LuaVm, string, object?, ExecuteOptions?)"/>
    protected static Task<ExecuteResult> AssertLuaAsync(LuaVm vm, string code, object? expected, ExecuteOptions? options = null) =>
        LuaAssert.ReturnsAsync(vm, code, expected, options);

    /// <inheritdoc cref="LuaAssert.ReturnsValuesAsync"/>
    protected static Task<ExecuteResult> AssertLuaValuesAsync(LuaVm vm, string code, params object?[] expected) =>
        LuaAssert.ReturnsValuesAsync(vm, code, expected);

    /// <inheritdoc cref="LuaAssert.FailsAsync"/>
    protected static Task<LuaActorsException> AssertLuaErrorAsync(
        LuaVm vm, string code, ErrorKind kind, string? messageContains = null, ExecuteOptions? options = null) =>
        LuaAssert.FailsAsync(vm, code, kind, messageContains, options);

    /// <inheritdoc cref="LuaAssert.ReceivesFromVmAsync(LuaVm, TimeSpan)"/>
    protected Task<JsonElement> ExpectFromVmAsync(LuaVm vm, TimeSpan? timeout = null) =>
        LuaAssert.ReceivesFromVmAsync(vm, timeout ?? DefaultWait);

    /// <inheritdoc cref="LuaAssert.ReceivesFromVmAsync(LuaVm, TimeSpan, object?)"/>
    protected Task<JsonElement> ExpectValueFromVmAsync(LuaVm vm, object? expected, TimeSpan? timeout = null) =>
        LuaAssert.ReceivesFromVmAsync(vm, timeout ?? DefaultWait, expected);

    /// <inheritdoc cref="LuaAssert.InboxReceivesAsync"/>
    protected Task<InboxMessage> ExpectInInboxAsync(LuaVm vm, TimeSpan? timeout = null) =>
        LuaAssert.InboxReceivesAsync(vm, timeout ?? DefaultWait);

    /// <inheritdoc cref="LuaAssert.OutputContainsAsync"/>
    protected Task<string> ExpectOutputAsync(VmSession session, string expected, TimeSpan? timeout = null) =>
        LuaAssert.OutputContainsAsync(session, expected, timeout ?? DefaultWait);
}
