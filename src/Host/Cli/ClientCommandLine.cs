using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>
/// The options every client command (vm, group, publish, cluster, attach) takes: --node URL
/// (LUAACTORS_NODE, else http://127.0.0.1:5080), --token (LUAACTORS_TOKEN), --json; and what
/// they come to for one invocation (<see cref="Read"/>).
/// </summary>
internal sealed class ClientOptions(Func<string, string?> environment)
{
    public const string DefaultNode = "http://127.0.0.1:5080";

    public Option<string?> Node { get; } = NodeOption();

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "the node's token [LUAACTORS_TOKEN]",
        HelpName = "TOKEN",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "print the API's JSON instead of tables; errors as JSON too" };

    /// <summary>Adds --node, --token and (unless <paramref name="json"/> is false) --json to <paramref name="command"/>.</summary>
    public void AddTo(Command command, bool json = true)
    {
        command.Add(Node);
        command.Add(Token);
        if (json)
        {
            command.Add(Json);
        }
    }

    /// <summary>The node, token and output form of this invocation; a bad LUAACTORS_NODE is a bad argument.</summary>
    public ClientCommandLine Read(ParseResult result)
    {
        var node = result.GetValue(Node) ?? NonEmpty(environment("LUAACTORS_NODE")) ?? DefaultNode;
        return new ClientCommandLine(
            NodeUri(node) ?? throw new ArgumentException(NodeProblem(node)),
            result.GetValue(Token) ?? NonEmpty(environment("LUAACTORS_TOKEN")),
            result.GetResult(Json) is not null && result.GetValue(Json));
    }

    private static Option<string?> NodeOption()
    {
        var option = new Option<string?>("--node")
        {
            Description = $"the node's HTTP API [LUAACTORS_NODE] ({DefaultNode})",
            HelpName = "URL",
        };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && NodeUri(result.Tokens[0].Value) is null)
            {
                result.AddError(NodeProblem(result.Tokens[0].Value));
            }
        });
        return option;
    }

    /// <summary>The node's base URL (a bare HOST:PORT is http), or null if it is not an http(s) URL.</summary>
    private static Uri? NodeUri(string node)
    {
        if (!Uri.TryCreate(node.Contains("://", StringComparison.Ordinal) ? node : "http://" + node, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }

    private static string NodeProblem(string node) => $"--node needs the node's HTTP URL, like {DefaultNode} (got '{node}')";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>Where one client invocation goes (node, token) and how it prints (--json).</summary>
internal sealed record ClientCommandLine(Uri Node, string? Token, bool Json)
{
    /// <summary>A file's text ('-': stdin); an unreadable file is a bad argument (exit 2).</summary>
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
}
