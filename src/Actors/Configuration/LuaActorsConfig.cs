using Akka.Configuration;

namespace LuaActors.Configuration;

/// <summary>Loads hocon/luaactors.conf, which ships inside this assembly.</summary>
public static class LuaActorsConfig
{
    private static readonly Lazy<Config> Defaults = new(() =>
        ConfigurationFactory.ParseString(EmbeddedText.Read("LuaActors.luaactors.conf")));

    /// <summary>The library's defaults, to be used as the fallback of an application's config.</summary>
    public static Config Default => Defaults.Value;

    /// <summary><paramref name="overrides"/> (HOCON text, may be empty) over the defaults.</summary>
    /// <exception cref="ConfigurationException">The text is not HOCON that stands on its own.</exception>
    public static Config WithOverrides(string? overrides) =>
        string.IsNullOrWhiteSpace(overrides)
            ? Default
            : Parse(overrides, "the LuaActors config").WithFallback(Default);

    /// <summary>
    /// Parses HOCON that must stand on its own. Akka's parser is lenient: an unclosed '{' or quote
    /// is accepted and swallows whatever is laid after it, and an unclosed '[' makes it loop
    /// forever. So: brackets are checked first, then the text is parsed with a deadline and a
    /// marker key after it that must come out at the top level.
    /// </summary>
    /// <param name="origin">What the text is, for the error message ("--config node.conf").</param>
    /// <exception cref="ConfigurationException">Said what is wrong, naming <paramref name="origin"/>.</exception>
    public static Config Parse(string hocon, string origin)
    {
        if (UnclosedBracketLine(hocon) is { } line)
        {
            throw new ConfigurationException($"{origin} is not valid HOCON: the '[' on line {line} is not closed");
        }

        const string marker = "luaactors-end-of-config";
        var parse = Task.Run(() => ConfigurationFactory.ParseString($"{hocon}\n\"{marker}\" = 1\n"));
        try
        {
            if (!parse.Wait(TimeSpan.FromSeconds(5)))
            {
                throw new ConfigurationException($"{origin} is not valid HOCON: the parser does not finish");
            }
        }
        catch (AggregateException failed)
        {
            throw new ConfigurationException($"{origin} is not valid HOCON: {failed.GetBaseException().Message}");
        }

        return parse.Result.GetInt(marker, 0) == 1
            ? ConfigurationFactory.ParseString(hocon)
            : throw new ConfigurationException($"{origin} is not valid HOCON: something is not closed (a '{{', a quote, a value)");
    }

    /// <summary>The line of the first '[' left open (outside strings and comments), or null.</summary>
    private static int? UnclosedBracketLine(string hocon)
    {
        var open = new Stack<int>();
        var line = 1;
        for (var i = 0; i < hocon.Length; i++)
        {
            var c = hocon[i];
            if (c == '\n')
            {
                line++;
            }
            else if (c == '#' || (c == '/' && i + 1 < hocon.Length && hocon[i + 1] == '/'))
            {
                while (i + 1 < hocon.Length && hocon[i + 1] != '\n')
                {
                    i++;
                }
            }
            else if (c == '"')
            {
                var triple = string.CompareOrdinal(hocon, i, "\"\"\"", 0, 3) == 0;
                var end = triple ? hocon.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : QuoteEnd(hocon, i + 1);
                if (end < 0)
                {
                    // An unclosed quote: the parser's own check reports it.
                    return null;
                }

                line += hocon.AsSpan(i, end - i).Count('\n');
                i = triple ? end + 2 : end;
            }
            else if (c == '[')
            {
                open.Push(line);
            }
            else if (c == ']' && open.Count > 0)
            {
                open.Pop();
            }
        }

        return open.Count > 0 ? open.Last() : null;
    }

    private static int QuoteEnd(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] is '"' or '\n')
            {
                return text[i] == '"' ? i : -1;
            }
        }

        return -1;
    }
}

internal static class EmbeddedText
{
    public static string Read(string name)
    {
        using var stream = typeof(EmbeddedText).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Resource {name} is missing from the LuaActors assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
