namespace LuaActors.Process;

/// <summary>
/// How a process backend starts its interpreter: the interpreter's own command line, and whether
/// luaactors-spawn starts it (one exec) or the exec chain does (<see cref="ExecChain"/>).
/// </summary>
internal sealed record LaunchCommand(IReadOnlyList<string> Interpreter, bool ViaSpawner)
{
    /// <summary>
    /// The interpreter behind <c>setsid</c> (a new session can only be made by the process itself)
    /// and <c>setpriv --pdeathsig KILL</c> (the same): three execs per VM start.
    /// </summary>
    public IReadOnlyList<string> ExecChain => ["setsid", "setpriv", "--pdeathsig", "KILL", .. Interpreter];
}
