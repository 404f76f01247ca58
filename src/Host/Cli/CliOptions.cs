using System.CommandLine;
using System.Globalization;

namespace LuaActors.Host.Cli;

/// <summary>Options and arguments several commands share, with the error texts of bad values.</summary>
internal static class CliOptions
{
    /// <summary>An option taking a positive whole number, e.g. --timeout-ms N.</summary>
    public static Option<int?> PositiveInt(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
            {
                return number;
            }

            result.AddError($"{name} needs a positive whole number (got '{text}')");
            return null;
        },
    };

    /// <summary>An option taking a positive size in bytes, with an optional unit (64KiB, 1MiB, 1GiB, 512B), e.g. --storage-max-value-size SIZE.</summary>
    public static Option<long?> PositiveSize(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "SIZE",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (ParseSize(text) is { } bytes)
            {
                return bytes;
            }

            result.AddError($"{name} needs a positive size such as 65536, 64KiB or 1MiB (got '{text}')");
            return null;
        },
    };

    /// <summary>A positive byte count with an optional unit (B, KiB, MiB, GiB; also K, M, G), or null.</summary>
    public static long? ParseSize(string text)
    {
        var digits = text.TakeWhile(char.IsAsciiDigit).Count();
        long multiplier = text[digits..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            _ => 0,
        };
        return digits > 0 && multiplier > 0
            && long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && number > 0 && number <= long.MaxValue / multiplier
            ? number * multiplier
            : null;
    }

    /// <summary>--config KEY=VALUE, repeatable (one entry per occurrence: the next token is never taken as a second entry).</summary>
    public static Option<string[]> ConfigEntries(string description)
    {
        var option = new Option<string[]>("--config") { Description = description, HelpName = "KEY=VALUE" };
        option.Validators.Add(result =>
        {
            foreach (var entry in result.Tokens.Select(token => token.Value))
            {
                var pair = entry.Split('=', 2);
                if (pair.Length != 2 || pair[0].Length == 0)
                {
                    result.AddError($"--config takes KEY=VALUE (got '{entry}')");
                    return;
                }
            }
        });
        return option;
    }

    /// <summary>The entries of <see cref="ConfigEntries"/> (already checked by its validator).</summary>
    public static Dictionary<string, string> ConfigOf(ParseResult result, Option<string[]> option)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in result.GetValue(option) ?? [])
        {
            var pair = entry.Split('=', 2);
            config[pair[0]] = pair[1];
        }

        return config;
    }

    /// <summary>-f, --file FILE: the code read from FILE ('-' for stdin).</summary>
    public static Option<string?> CodeFile() => new("--file", "-f")
    {
        Description = "read the code from FILE ('-' for stdin) instead of CODE",
        HelpName = "FILE",
    };

    /// <summary>A VM id argument: one outside the id grammar is a usage error.</summary>
    public static Argument<string> VmId(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && Messages.VmId.Problem(result.Tokens[0].Value) is { } problem)
            {
                result.AddError(problem);
            }
        });
        return argument;
    }

    /// <summary>The CODE of an exec: optional, because -f FILE may give it instead.</summary>
    public static Argument<string?> Code() => new("CODE")
    {
        Description = "the Lua chunk to run (or -f FILE)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Exactly one of CODE and -f FILE (a command validator; <paramref name="command"/> names it in the message).</summary>
    public static void RequireCodeOrFile(Command command, Argument<string?> code, Option<string?> file)
    {
        command.Validators.Add(result =>
        {
            var hasCode = result.GetResult(code) is { Tokens.Count: > 0 };
            var hasFile = result.GetResult(file) is not null;
            if (hasCode == hasFile)
            {
                result.AddError(hasCode
                    ? $"{CliErrors.PathOf(command)} takes either CODE or -f FILE, not both"
                    : $"{CliErrors.PathOf(command)} needs the code: either CODE or -f FILE");
            }
        });
    }

    /// <summary>CODE, or the text of -f FILE; an unreadable file is a bad argument (exit 2).</summary>
    public static async Task<string> CodeAsync(ParseResult result, Argument<string?> code, Option<string?> file) =>
        result.GetValue(file) is { } path ? await ClientCommandLine.ReadFileAsync(path) : result.GetValue(code)!;
}
