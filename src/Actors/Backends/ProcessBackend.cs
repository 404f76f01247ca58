using Akka.Configuration;
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
/// </summary>
public sealed class ProcessBackend : IVmBackend, IDisposable
{
    private readonly LaunchCommand _command;
    private readonly SpareProcesses? _spares;

    public ProcessBackend(string type, Config typeConfig)
    {
        Type = type;
        var executable = typeConfig.GetString("executable", "lua5.4");
        if (string.IsNullOrWhiteSpace(executable))
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.executable must name an interpreter.");
        }

        // -E: ignore LUA_INIT and LUA_PATH, like the environment scrub (Spawner.LuaEnvironment).
        var arguments = typeConfig.HasPath("arguments") ? typeConfig.GetStringList("arguments").ToArray() : ["-E"];
        var launcher = typeConfig.GetString("launcher", "spawner");
        if (launcher is not ("spawner" or "exec-chain"))
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.launcher must be spawner or exec-chain (got '{launcher}').");
        }

        SpawnerMissing = launcher == "spawner" && Spawner.BinaryPath is null;
        _command = new LaunchCommand(
            [executable, .. arguments, HostScript.PathFor(executable)],
            ViaSpawner: launcher == "spawner" && !SpawnerMissing);
        var spares = typeConfig.GetInt("spare-processes", 0);
        if (spares is < 0 or > 64)
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.spare-processes must be between 0 and 64 (got {spares}).");
        }

        _spares = spares > 0 ? new SpareProcesses(_command, spares) : null;
    }

    public string Type { get; }

    /// <summary>The type asks for luaactors-spawn but the build made none: its processes start through the exec chain.</summary>
    public bool SpawnerMissing { get; }

    public Task<IVmInstance> StartAsync(InstanceStart start) =>
        _spares?.TryTake(start) is { } spare
            ? Task.FromResult<IVmInstance>(spare)
            : LuaProcess.StartAsync(_command, start);

    /// <summary>Kills the idle spare processes; the pool refills at the next VM start.</summary>
    public void DropSpares() => _spares?.Drop();

    /// <summary>Kills the spare processes (the factory that built this backend stopped).</summary>
    public void Dispose() => _spares?.Dispose();
}
