using System.Runtime.CompilerServices;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// `luaactors node` persists to ./luaactors-data by default: nodes that tests start (in this
/// process or as child processes, which inherit the environment) would share one database and
/// bring back each other's VMs. They run with persistence off unless a test asks for it with a
/// flag (flags win over LUAACTORS_PERSISTENCE).
/// </summary>
internal static class NoPersistenceByDefault
{
#pragma warning disable CA2255 // A test assembly: the environment must be set before any test starts a node.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Set()
    {
        if (Environment.GetEnvironmentVariable("LUAACTORS_PERSISTENCE") is null)
        {
            Environment.SetEnvironmentVariable("LUAACTORS_PERSISTENCE", "off");
        }
    }
}
