using System.Diagnostics;
using LuaActors.Host.Cli;

namespace LuaActors.UnitTests;

/// <summary>
/// `luaactors completion bash` for real: the script is sourced in bash, COMP_WORDS/COMP_CWORD set
/// as bash sets them, and COMPREPLY is what the program (asked through [suggest]) answered.
/// </summary>
public sealed class CompletionScriptTests
{
    private static readonly string Program = Path.Combine(AppContext.BaseDirectory, "luaactors.dll");

    [Theory]
    [InlineData("vm ex", "exec")]
    [InlineData("vm exec calc --rep", "--repl")]
    [InlineData("gr", "group")]
    [InlineData("group create w 3 --inb", "--inbox-capacity")]
    [InlineData("completion ", "bash zsh")]
    public async Task Bash_completes_commands_and_options_from_the_program(string typed, string expected)
    {
        var completions = await CompleteAsync(typed);

        foreach (var word in expected.Split(' '))
        {
            Assert.Contains(word, completions);
        }

        // Only words that continue what was typed.
        var current = typed.Split(' ')[^1];
        Assert.All(completions, completion => Assert.StartsWith(current, completion, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bash_completes_every_command_after_the_program_name()
    {
        var completions = await CompleteAsync("");

        foreach (var command in new[] { "eval", "node", "doctor", "vm", "group", "publish", "cluster", "attach", "completion" })
        {
            Assert.Contains(command, completions);
        }
    }

    [Fact]
    public void The_script_calls_the_program_it_was_printed_by()
    {
        var script = CompletionCommand.Script("bash", ["/opt/it's here/luaactors"]);

        Assert.Contains("'/opt/it'\\''s here/luaactors' \"[suggest:${#line}]\" \"$line\"", script);
        Assert.Contains("complete -o default -F _luaactors_complete luaactors", script);
        Assert.Contains("compdef _luaactors luaactors", CompletionCommand.Script("zsh", ["luaactors"]));
    }

    /// <summary>COMPREPLY for the words typed after `luaactors` (the last one is the word being completed).</summary>
    private static async Task<string[]> CompleteAsync(string typed)
    {
        var script = CompletionCommand.Script("bash", ["dotnet", "exec", Program]);
        var words = new[] { "luaactors" }.Concat(typed.Split(' ')).ToArray();
        var driver = $$"""
            {{script}}
            COMP_WORDS=({{string.Join(" ", words.Select(w => $"'{w}'"))}})
            COMP_CWORD={{words.Length - 1}}
            _luaactors_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        using var bash = System.Diagnostics.Process.Start(new ProcessStartInfo("bash", ["-c", driver])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await bash.StandardOutput.ReadToEndAsync();
        var error = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.True(bash.ExitCode == 0, $"bash exit {bash.ExitCode}: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
