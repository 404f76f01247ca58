namespace LuaActors.Host;

/// <summary>The help text and the exit code for bad arguments (2).</summary>
internal static class Usage
{
    public const int BadArguments = 2;

    private const string Text = """
        usage:
          luaactors eval [options] CODE        run CODE in a fresh VM and print its output and result
          luaactors eval [options] -f FILE     the same, with the code read from FILE ('-' for stdin)

        eval options:
          --timeout-ms N        time limit of the code (default luaactors.vm.default-timeout)
          --memory-mb N         Lua heap limit of the VM (default luaactors.vm.memory-limit)
          --type T              VM type (default basic)
          --config KEY=VALUE    a config entry of the VM type (repeatable)

        eval prints what the code printed, then its result as JSON: one value as itself, several
        as a JSON array, none as nothing. Exit codes: 0 ok, 1 Lua or VM error (kind and message
        on stderr), 2 bad arguments.
        """;

    public static int Print(TextWriter writer, int exitCode)
    {
        writer.WriteLine(Text);
        return exitCode;
    }

    public static int Fail(string problem)
    {
        Console.Error.WriteLine($"luaactors: {problem}");
        Console.Error.WriteLine("run 'luaactors --help' for usage");
        return BadArguments;
    }
}
