using Akka.Configuration;

namespace LuaActors.Backends;

/// <summary>
/// What a <c>backend = process</c> type's entry says about starting its interpreter, read and
/// checked in one place for the backend and for <c>luaactors doctor</c>.
/// </summary>
internal sealed record ProcessTypeConfig(string Executable, string[] Arguments, string Launcher)
{
    public bool ViaSpawner => Launcher == "spawner";

    /// <exception cref="ConfigurationException">An empty executable or an unknown launcher.</exception>
    public static ProcessTypeConfig From(string type, Config typeConfig)
    {
        var executable = typeConfig.GetString("executable", "lua5.4");
        if (string.IsNullOrWhiteSpace(executable))
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.executable must name an interpreter.");
        }

        // -E: ignore LUA_INIT and LUA_PATH (VM processes get a minimal environment too: VmEnvironment).
        var arguments = typeConfig.HasPath("arguments") ? typeConfig.GetStringList("arguments").ToArray() : ["-E"];
        var launcher = typeConfig.GetString("launcher", "spawner");
        if (launcher is not ("spawner" or "exec-chain"))
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.launcher must be spawner or exec-chain (got '{launcher}').");
        }

        return new ProcessTypeConfig(executable, arguments, launcher);
    }
}
