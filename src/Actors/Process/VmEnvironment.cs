namespace LuaActors.Process;

/// <summary>
/// The environment of every VM process: a few named variables of the node, nothing else. A node's
/// environment holds secrets (LUAACTORS_TOKEN, cloud credentials) that any process of the same
/// user could read from <c>/proc/PID/environ</c> of a VM, and variables that make an interpreter
/// run code or load other paths (LUA_INIT, LUA_PATH, LUA_CPATH, LD_PRELOAD). docs/configuration.md,
/// "The environment of a VM process", lists what is passed and why.
/// </summary>
internal static class VmEnvironment
{
    /// <summary>Used when the node itself has no PATH.</summary>
    public const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";

    /// <summary>
    /// PATH: an interpreter named without a directory, a wrapper script, and <c>setpriv</c> of the
    /// exec chain are looked up on it. TZ: <c>os.date</c> shows the node's local time.
    /// </summary>
    public static readonly string[] PassedNames = ["PATH", "TZ"];

    /// <summary>The variables a VM process gets, from this process's environment now.</summary>
    public static IReadOnlyDictionary<string, string> Current()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in PassedNames)
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                variables[name] = value;
            }
        }

        variables.TryAdd("PATH", DefaultPath);
        return variables;
    }

    /// <summary>Replaces <paramref name="environment"/> (a ProcessStartInfo's) with <see cref="Current"/>.</summary>
    public static void Apply(IDictionary<string, string?> environment)
    {
        environment.Clear();
        foreach (var (name, value) in Current())
        {
            environment[name] = value;
        }
    }
}
