using System.Globalization;

namespace LuaActors.Host;

/// <summary>
/// The arguments of a client command (`vm …`, `cluster`): positionals, the command's own
/// options, and the common ones: --node URL (LUAACTORS_NODE, else http://127.0.0.1:5080),
/// --token (LUAACTORS_TOKEN), --json. Throws <see cref="ArgumentException"/> for bad ones (exit 2).
/// </summary>
internal sealed class ClientCommandLine
{
    public const string DefaultNode = "http://127.0.0.1:5080";

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    private ClientCommandLine(string command)
    {
        Command = command;
    }

    public string Command { get; }

    public IReadOnlyList<string> Positionals => _positionals;

    private readonly List<string> _positionals = [];
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public Uri Node { get; private set; } = new(DefaultNode);

    public string? Token { get; private set; }

    public bool Json => Has("--json");

    public bool HelpRequested => Has("--help");

    /// <param name="valueOptions">The command's options that take a value (e.g. --type); -f is --file.</param>
    /// <param name="flags">The command's options without a value (e.g. --repl).</param>
    public static ClientCommandLine Parse(
        string command, string[] args, IEnumerable<string> valueOptions, IEnumerable<string> flags, Func<string, string?> environment)
    {
        var line = new ClientCommandLine(command);
        var takesValue = new HashSet<string>(valueOptions.Append("--node").Append("--token"), StringComparer.Ordinal);
        var isFlag = new HashSet<string>(flags.Append("--json").Append("--help"), StringComparer.Ordinal);
        var optionsDone = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i] switch
            {
                "-f" => "--file",
                "-h" => "--help",
                var other => other,
            };
            if (optionsDone || arg == "-" || !arg.StartsWith('-'))
            {
                line._positionals.Add(args[i]);
            }
            else if (arg == "--")
            {
                optionsDone = true;
            }
            else if (takesValue.Contains(arg))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{arg} needs a value");
                }

                if (!line._values.TryGetValue(arg, out var list))
                {
                    line._values[arg] = list = [];
                }

                list.Add(args[++i]);
            }
            else if (isFlag.Contains(arg))
            {
                line._flags.Add(arg);
            }
            else
            {
                throw new ArgumentException($"unknown option '{args[i]}' for {command}");
            }
        }

        var node = line.Value("--node") ?? NonEmpty(environment("LUAACTORS_NODE")) ?? DefaultNode;
        if (!Uri.TryCreate(node.Contains("://", StringComparison.Ordinal) ? node : "http://" + node, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--node needs the node's HTTP URL, like {DefaultNode} (got '{node}')");
        }

        line.Node = uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
        line.Token = line.Value("--token") ?? NonEmpty(environment("LUAACTORS_TOKEN"));
        return line;
    }

    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>The option's value (the last one if it was given more than once), or null.</summary>
    public string? Value(string option) => _values.TryGetValue(option, out var list) ? list[^1] : null;

    public IReadOnlyList<string> Values(string option) => _values.TryGetValue(option, out var list) ? list : [];

    public int? PositiveInt(string option) =>
        Value(option) is not { } text ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0 ? number
        : throw new ArgumentException($"{option} needs a positive whole number (got '{text}')");

    /// <summary>Exactly <paramref name="names"/>.Length positionals, named for the message.</summary>
    public void ExpectPositionals(params string[] names)
    {
        if (Positionals.Count != names.Length)
        {
            var wanted = names.Length == 0 ? "no arguments" : string.Join(" ", names);
            throw new ArgumentException($"{Command} takes {wanted} (got {Positionals.Count} arguments)");
        }
    }

    /// <summary>Positional <paramref name="index"/> as a VM id: one outside the grammar is a bad argument (exit 2).</summary>
    public string VmIdAt(int index)
    {
        var id = Positionals[index];
        return Messages.VmId.Problem(id) is { } problem ? throw new ArgumentException(problem) : id;
    }

    /// <summary>
    /// The code of an exec: positionals <paramref name="target"/> CODE, or <paramref name="target"/>
    /// alone with --file FILE ('-' for stdin).
    /// </summary>
    public async Task<string> CodeAsync(string target)
    {
        if (Value("--file") is { } file)
        {
            ExpectPositionals(target);
            return await ReadFileAsync(file);
        }

        ExpectPositionals(target, "CODE");
        return Positionals[1];
    }

    /// <summary>A file's text ('-': stdin); an unreadable file is a bad argument.</summary>
    public static async Task<string> ReadFileAsync(string file)
    {
        try
        {
            return file == "-" ? await Console.In.ReadToEndAsync() : await File.ReadAllTextAsync(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read {file}: {e.Message}");
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
