using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>
/// `luaactors completion bash|zsh`: a shell script that completes luaactors command lines by
/// asking the program itself (System.CommandLine's [suggest:POSITION] directive), so the
/// completions always match the commands and options of this build.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "print a shell completion script") { shell };
        command.SetAction(result =>
        {
            result.InvocationConfiguration.Output.Write(Script(result.GetValue(shell)!, ThisProgram()));
            return 0;
        });
        return CliHelp.Document(
            command,
            "The script runs this program (by its full path) to find the completions.",
            "source <(luaactors completion bash)              # in ~/.bashrc",
            "luaactors completion zsh > \"${fpath[1]}/_luaactors\"  # then restart zsh");
    }

    /// <summary>The completion script of <paramref name="shell"/>, calling <paramref name="program"/> (the command words that start luaactors).</summary>
    public static string Script(string shell, IReadOnlyList<string> program)
    {
        var run = string.Join(" ", program.Select(Quote));
        return shell switch
        {
            // Completes the words up to the cursor: the line is rebuilt from COMP_WORDS with the
            // program's own name first, and the position is its end.
            "bash" => $$"""
                # luaactors completion for bash: source <(luaactors completion bash)
                _luaactors_complete()
                {
                    local line="luaactors"
                    local i
                    for ((i = 1; i <= COMP_CWORD; i++)); do
                        line+=" ${COMP_WORDS[i]}"
                    done
                    local IFS=$'\n'
                    COMPREPLY=($(compgen -W "$({{run}} "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
                }
                complete -o default -F _luaactors_complete luaactors

                """,
            "zsh" => $$"""
                #compdef luaactors
                # luaactors completion for zsh: luaactors completion zsh > "${fpath[1]}/_luaactors"
                _luaactors() {
                    local line="luaactors ${(j: :)words[2,CURRENT]}"
                    local -a completions
                    completions=("${(@f)$({{run}} "[suggest:${#line}]" "$line" 2>/dev/null)}")
                    compadd -a completions
                }
                compdef _luaactors luaactors

                """,
            _ => throw new ArgumentException($"no completion for {shell} (bash or zsh)"),
        };
    }

    /// <summary>How to start this program again: its executable, or `dotnet exec luaactors.dll` under the dotnet host.</summary>
    private static string[] ThisProgram()
    {
        var process = Environment.ProcessPath ?? "luaactors";
        var assembly = typeof(CompletionCommand).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && assembly.Length > 0
            ? [process, "exec", assembly]
            : [process];
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
