using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Process;

namespace LuaActors.Backends;

/// <summary>
/// A VM that is a local interpreter process running the host script: <c>lua5.4</c> for the
/// <c>basic</c> type, or any executable a HOCON type entry names. The process runs in its own
/// session (Ctrl+C at a terminal must not reach it before its actor stops it), dies with the
/// process that started it, and has an OS address-space limit.
/// <para>
/// Every exec costs ~3 ms on the development machine (page-table work is expensive in its VM), so
/// by default luaactors-spawn starts the interpreter with one exec (<c>launcher = spawner</c>).
/// <c>launcher = exec-chain</c>, or a build without a C compiler, starts it as
/// <c>setsid setpriv --pdeathsig KILL</c> + interpreter instead (<see cref="LaunchCommand"/>).
/// </para>
/// <para>
/// The kernel confines each process (<c>confinement</c>, docs/guarantees.md "Confinement"):
/// luaactors-spawn applies the layers between fork and exec. The exec chain applies none.
/// </para>
/// </summary>
public sealed class ProcessBackend : IVmBackend, IDisposable
{
    /// <summary>
    /// The type key that gives scripts the whole standard library (io, os, require, debug): the
    /// Lua sandbox is off and only the kernel confinement stands. For tests of that confinement.
    /// </summary>
    public const string UnsafeSandboxOffKey = "UNSAFE-lua-sandbox-off";

    private const string UnsafeSandboxOffArgument = "--UNSAFE-lua-sandbox-off";

    private readonly LaunchCommand _command;
    private readonly SpareProcesses? _spares;
    private readonly byte[] _confinement = [];
    private readonly byte[] _networkingConfinement = [];
    private int _warned;

    /// <param name="type">The type's name.</param>
    /// <param name="typeConfig">Its entry of <c>luaactors.vm-types</c>.</param>
    /// <param name="networking"><c>luaactors.vm.networking</c> (the ports confinement allows), or null.</param>
    public ProcessBackend(string type, Config typeConfig, NetworkingSettings? networking = null)
    {
        Type = type;
        var process = ProcessTypeConfig.From(type, typeConfig);
        SpawnerMissing = process.ViaSpawner && Spawner.BinaryPath is null;
        var script = HostScript.PathFor(process.Executable);
        SandboxOff = typeConfig.GetBoolean(UnsafeSandboxOffKey, false);
        _command = new LaunchCommand(
            [process.Executable, .. process.Arguments, script, .. SandboxOff ? new[] { UnsafeSandboxOffArgument } : []],
            ViaSpawner: process.ViaSpawner && !SpawnerMissing);
        Confinement = ConfinementSettings.From(type, typeConfig, networking);
        if (_command.ViaSpawner && Confinement.Enabled)
        {
            var maxSockets = networking?.MaxSockets ?? 64;
            // The script's directory, not the file: Landlock holds a rule by inode, and another
            // process of this build (a second node, `luaactors eval`) may replace the compiled
            // script in that shared directory after the launcher cached its ruleset.
            string[] readPaths = [Path.GetDirectoryName(script)!];
            _confinement = ConfinementBlock.For(Confinement, networking: false, maxSockets, readPaths);
            _networkingConfinement = ConfinementBlock.For(Confinement, networking: true, maxSockets, readPaths);
        }
        var spares = typeConfig.GetInt("spare-processes", 0);
        if (spares is < 0 or > 64)
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.spare-processes must be between 0 and 64 (got {spares}).");
        }

        _spares = spares > 0 ? new SpareProcesses(_command, spares, _confinement) : null;
    }

    public string Type { get; }

    /// <summary>The confinement this type asks for (what a process gets also depends on the kernel).</summary>
    public ConfinementSettings Confinement { get; }

    /// <summary>The type's scripts run without the Lua sandbox (<see cref="UnsafeSandboxOffKey"/>).</summary>
    public bool SandboxOff { get; }

    /// <summary>Confinement is asked for but the exec chain starts the processes: no layer applies.</summary>
    public bool ConfinementUnavailable => Confinement.Enabled && !_command.ViaSpawner;

    /// <summary>
    /// Called once, with the names of the layers missing, when the kernel lacked a layer the type
    /// asks for (the factory logs it as a warning).
    /// </summary>
    public Action<IReadOnlyList<string>>? LayersMissing { get; init; }

    /// <summary>The type asks for luaactors-spawn but the build made none: its processes start through the exec chain.</summary>
    public bool SpawnerMissing { get; }

    public Task<IVmInstance> StartAsync(InstanceStart start)
    {
        // Spares are confined without networking: a networking VM of a confined type starts its own.
        var confined = _confinement.Length > 0;
        if (!(start.Networking && confined) && _spares?.TryTake(start) is { } spare)
        {
            return Task.FromResult<IVmInstance>(spare);
        }

        var block = start.Networking ? _networkingConfinement : _confinement;
        var starting = LuaProcess.StartAsync(_command, start, block);
        return block.Length == 0 || Volatile.Read(ref _warned) != 0 ? starting : CheckLayersAsync(starting, start.Networking);
    }

    private async Task<IVmInstance> CheckLayersAsync(Task<IVmInstance> starting, bool networking)
    {
        var instance = await starting.ConfigureAwait(false);
        var expected = Confinement.Layers;
        if (networking && !Confinement.PortsKnown)
        {
            expected &= ~ConfinementLayers.LandlockNetwork;
        }

        var missing = expected & ~((instance as LuaProcess)?.Confinement ?? expected);
        if (missing != ConfinementLayers.None && Interlocked.Exchange(ref _warned, 1) == 0)
        {
            LayersMissing?.Invoke(ConfinementSettings.Names(missing));
        }

        return instance;
    }

    /// <summary>Kills the idle spare processes; the pool refills at the next VM start.</summary>
    public void DropSpares() => _spares?.Drop();

    /// <summary>Kills the spare processes (the factory that built this backend stopped).</summary>
    public void Dispose() => _spares?.Dispose();
}
