using Akka.Configuration;
using LuaActors.Process;

namespace LuaActors.Backends;

/// <summary>
/// A VM that is a local interpreter process running the host script: <c>lua5.4</c> for the
/// <c>basic</c> type, or any executable a HOCON type entry names. The process runs in its own
/// session (Ctrl+C at a terminal must not reach it before its actor stops it), dies with the
/// thread that started it, and has an OS address-space limit.
/// <para>
/// Every exec costs ~3 ms on the development machine (page-table work is expensive in its VM), so
/// the chain is as short as the guarantees allow with stock tools and CliWrap: <c>setsid</c> (a
/// new session can only be made by the process itself) and <c>setpriv --pdeathsig KILL</c> (the
/// same), while the address-space limit is set by <see cref="LuaProcess"/> with prlimit(2) on the
/// new PID instead of a third wrapper.
/// </para>
/// </summary>
public sealed class ProcessBackend : IVmBackend, IDisposable
{
    private readonly string _executable;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _script;
    private readonly SpareProcesses? _spares;

    public ProcessBackend(string type, Config typeConfig)
    {
        Type = type;
        _executable = typeConfig.GetString("executable", "lua5.4");
        if (string.IsNullOrWhiteSpace(_executable))
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.executable must name an interpreter.");
        }

        // -E: ignore LUA_INIT and LUA_PATH, like the environment scrub in LuaProcess.
        _arguments = typeConfig.HasPath("arguments") ? typeConfig.GetStringList("arguments").ToArray() : ["-E"];
        _script = HostScript.PathFor(_executable);
        var spares = typeConfig.GetInt("spare-processes", 0);
        if (spares is < 0 or > 64)
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.spare-processes must be between 0 and 64 (got {spares}).");
        }

        _spares = spares > 0 ? new SpareProcesses(CommandLine(), spares) : null;
    }

    public string Type { get; }

    public Task<IVmInstance> StartAsync(InstanceStart start) =>
        _spares?.TryTake(start) is { } spare
            ? Task.FromResult<IVmInstance>(spare)
            : LuaProcess.StartAsync(CommandLine(), start);

    /// <summary>Kills the spare processes (the factory that built this backend stopped).</summary>
    public void Dispose() => _spares?.Dispose();

    private string[] CommandLine() =>
    [
        "setsid",
        "setpriv", "--pdeathsig", "KILL",
        _executable, .. _arguments, _script,
    ];
}
