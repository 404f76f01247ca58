using Akka.Configuration;
using LuaActors.Process;

namespace LuaActors.Backends;

/// <summary>
/// A VM that is a local interpreter process running the host script: <c>lua5.4</c> for the
/// <c>basic</c> type, or any executable a HOCON type entry names. The process runs in its own
/// session (Ctrl+C at a terminal must not reach it before its actor stops it), dies with the
/// thread that started it, and has an OS address-space limit.
/// </summary>
public sealed class ProcessBackend : IVmBackend
{
    private readonly string _executable;
    private readonly IReadOnlyList<string> _arguments;

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
    }

    public string Type { get; }

    public Task<IVmInstance> StartAsync(InstanceStart start)
    {
        string[] commandLine =
        [
            "setsid",
            "setpriv", "--pdeathsig", "KILL",
            "prlimit", $"--as={start.AddressSpaceBytes}",
            _executable, .. _arguments, HostScript.Path,
        ];
        return LuaProcess.StartAsync(commandLine, start);
    }
}
