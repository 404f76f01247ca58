using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>A bad command line: what is wrong, the command it concerns, and the nearest right words.</summary>
internal sealed record UsageProblem(string Message, Command Command, IReadOnlyList<string> Suggestions);

/// <summary>
/// Usage errors (exit 2) and the errors of client commands, as text or, with --json, as one
/// JSON object {"error": {"kind", "message"}} on stderr (docs/cli.md, "Errors").
/// </summary>
internal static class CliErrors
{
    /// <summary>The kind of a usage error in JSON.</summary>
    public const string UsageKind = "usage";

    /// <summary>
    /// What is wrong with a parsed command line, or null when it may run. --help, --version and
    /// [suggest] run whatever else is wrong. An argument that looks like an option (not after
    /// `--`, not a number) is an unknown option, not a CODE or a VALUE.
    /// </summary>
    public static UsageProblem? Find(ParseResult result)
    {
        var command = result.CommandResult.Command;
        if (result.Action is not (null or ParseErrorAction) && !ReferenceEquals(result.Action, command.Action))
        {
            return null;
        }

        var afterDoubleDash = result.Tokens.SkipWhile(t => t.Type != TokenType.DoubleDash).ToHashSet(ReferenceEqualityComparer.Instance);
        // An argument that takes the rest of the line (the node's options) is another parser's business.
        var positionals = result.CommandResult.Children.OfType<ArgumentResult>()
            .Where(a => !a.Argument.CaptureRemainingTokens)
            .SelectMany(a => a.Tokens);
        var stray = positionals.FirstOrDefault(t => !afterDoubleDash.Contains(t) && LooksLikeOption(t.Value))?.Value
            ?? (result.UnmatchedTokens.Count > 0 ? result.UnmatchedTokens[0] : null);
        if (stray is not null)
        {
            var isCommand = command.Subcommands.Count > 0 && !stray.StartsWith('-');
            var what = isCommand ? "command" : "argument";
            return new UsageProblem(
                command.Parents.Any() ? $"unknown {what} '{stray}' for {PathOf(command)}" : $"unknown {what} '{stray}'",
                command,
                Suggest(stray, result.CommandResult));
        }

        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
            return new UsageProblem($"{PathOf(command)} needs a command: {string.Join(", ", names[..^1])} or {names[^1]}", command, []);
        }

        return result.Errors.Count == 0 ? null : new UsageProblem(Describe(result.Errors[0], command), command, []);
    }

    /// <summary>Prints <paramref name="problem"/> (and where to find the usage) on <paramref name="error"/>; exit 2.</summary>
    public static int PrintUsage(TextWriter error, UsageProblem problem, bool json)
    {
        if (json)
        {
            error.WriteLine(ErrorJson(UsageKind, problem.Message, problem.Suggestions));
            return Usage.BadArguments;
        }

        error.WriteLine($"luaactors: {problem.Message}");
        if (problem.Suggestions.Count > 0)
        {
            error.WriteLine($"did you mean {string.Join(" or ", problem.Suggestions.Select(s => $"'{s}'"))}?");
        }

        error.WriteLine($"run '{("luaactors " + PathOf(problem.Command)).TrimEnd()} --help' for usage");
        return Usage.BadArguments;
    }

    /// <summary>A failure without an answer of the node (unreachable, an answer this client cannot read): exit 1.</summary>
    public static int PrintFailure(TextWriter error, string kind, string message, bool json)
    {
        error.WriteLine(json ? ErrorJson(kind, message, []) : $"luaactors: {message}");
        return 1;
    }

    /// <summary>{"error": {"kind": …, "message": …}}, the shape of the node's own error answers (docs/api.md).</summary>
    public static string ErrorJson(string kind, string message, IReadOnlyList<string> suggestions) =>
        JsonSerializer.Serialize(
            new
            {
                error = suggestions.Count > 0
                    ? (object)new { kind, message, suggestions }
                    : new { kind, message },
            },
            ReadableJson);

    // Quotes and non-ASCII text stay as they are: the message is for people too.
    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Whether --json was given (before any `--`) to a command that takes it, or to one whose
    /// subcommands take it (`vm lss --json`: the typo is reported as JSON too).
    /// </summary>
    public static bool JsonRequested(ParseResult result) =>
        TakesJson(result.CommandResult.Command)
        && result.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash).Any(t => t.Value == "--json");

    private static bool TakesJson(Command command) =>
        command.Options.Any(o => o.Name == "--json" && !o.Hidden) || command.Subcommands.Any(TakesJson);

    /// <summary>"vm exec" for the command `luaactors vm exec` ("" for the root).</summary>
    public static string PathOf(Command command)
    {
        var names = new List<string>();
        for (var current = command; current.Parents.OfType<Command>().FirstOrDefault() is { } parent; current = parent)
        {
            names.Insert(0, current.Name);
        }

        return string.Join(" ", names);
    }

    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-'
        && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>Our wording for a missing value; the parser's or a validator's message otherwise.</summary>
    private static string Describe(ParseError error, Command command) => error.SymbolResult switch
    {
        ArgumentResult { Parent: OptionResult option } missing when missing.Tokens.Count < missing.Argument.Arity.MinimumNumberOfValues
            => $"{option.IdentifierToken?.Value ?? option.Option.Name} needs a value",
        ArgumentResult missing when missing.Tokens.Count < missing.Argument.Arity.MinimumNumberOfValues
            => $"{PathOf(command)} needs {missing.Argument.Name}",
        OptionResult { Tokens.Count: 0 } option when option.Option.Arity.MinimumNumberOfValues > 0
            => $"{option.IdentifierToken?.Value ?? option.Option.Name} needs a value",
        _ => error.Message,
    };

    /// <summary>The subcommands or options of the command nearest to <paramref name="token"/> (edit distance), best first.</summary>
    private static List<string> Suggest(string token, CommandResult result)
    {
        var candidates = result.Command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name))
            .Concat(result.Command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)))
            .Where(name => token.StartsWith('-') == name.StartsWith('-'))
            .Distinct()
            .Select(name => (Name: name, Distance: Distance(token, name)))
            .Where(c => c.Distance > 0 && c.Distance <= Math.Min(3, (token.TrimStart('-').Length + 1) / 2))
            .ToList();
        return candidates.Count == 0 ? [] : candidates.Where(c => c.Distance == candidates.Min(x => x.Distance)).Select(c => c.Name).ToList();
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
