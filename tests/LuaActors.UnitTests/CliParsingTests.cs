using System.CommandLine;
using System.Text.Json;
using LuaActors.Host;
using LuaActors.Host.Cli;

namespace LuaActors.UnitTests;

/// <summary>
/// The `luaactors` command line without running a command: what each command line parses to,
/// usage errors (exit 2 and their text), per-command help, --version, suggestions, --json errors.
/// </summary>
public sealed class CliParsingTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Theory]
    [InlineData("eval", "return 1")]
    [InlineData("eval", "-f", "job.lua", "--timeout-ms", "5", "--memory-mb", "8", "--type", "basic", "--config", "a=1", "--config", "b=2")]
    [InlineData("eval", "--", "-- a comment first")]
    [InlineData("doctor")]
    [InlineData("doctor", "--config", "node.conf")]
    [InlineData("node")]
    [InlineData("node", "--port", "4101", "--seed", "akka.tcp://luaactors@127.0.0.1:4100", "--token", "t")]
    [InlineData("vm", "create", "calc", "--type", "basic", "--init", "init.lua", "--timeout-ms", "3000", "--memory-mb", "32",
        "--inbox-capacity", "10", "--networking", "--config", "allow=x:1", "--node", "http://h:1", "--token", "t", "--json")]
    [InlineData("vm", "create", "kv", "--storage-max-value-size", "64KiB", "--storage-max-keys", "100", "--storage-max-total-size", "1048576")]
    [InlineData("vm", "ls")]
    [InlineData("vm", "list", "--json")]
    [InlineData("vm", "info", "calc")]
    [InlineData("vm", "exec", "calc", "return 1")]
    [InlineData("vm", "exec", "calc", "-f", "-", "--repl", "--timeout-ms", "1", "--memory-mb", "1")]
    [InlineData("vm", "rm", "calc")]
    [InlineData("vm", "remove", "calc")]
    [InlineData("vm", "send", "calc", "42")]
    [InlineData("vm", "send", "calc", "-1")]
    [InlineData("vm", "link", "a", "b")]
    [InlineData("vm", "unlink", "a", "b")]
    [InlineData("publish", "prices", "{\"eur\": 1.08}")]
    [InlineData("cluster", "--node", "127.0.0.1:5080")]
    [InlineData("attach", "calc")]
    [InlineData("group", "create", "workers", "1000", "--init", "init.lua")]
    [InlineData("group", "exec", "workers", "return 1", "--json")]
    [InlineData("group", "exec", "workers", "--file", "job.lua")]
    [InlineData("group", "rm", "workers")]
    [InlineData("completion", "bash")]
    [InlineData("completion", "zsh")]
    public void Every_command_parses_its_arguments_and_options(params string[] args)
    {
        var result = Parse(args);

        Assert.Null(CliErrors.Find(result));
        Assert.Empty(result.Errors);
        var expected = string.Join(" ", args.TakeWhile(a => a is "vm" or "group" or "eval" or "doctor" or "node" or "publish"
            or "cluster" or "attach" or "completion" or "create" or "ls" or "list" or "info" or "exec" or "rm" or "remove"
            or "send" or "link" or "unlink").Take(2))
            .Replace("list", "ls", StringComparison.Ordinal).Replace("remove", "rm", StringComparison.Ordinal);
        Assert.Equal(expected, CliErrors.PathOf(result.CommandResult.Command));
    }

    [Fact]
    public void Option_values_are_typed_and_repeatable_options_collect()
    {
        var result = Parse("vm", "create", "calc", "--timeout-ms", "3000", "--config", "a=1", "--config", "b=x=y", "--networking");

        Assert.Equal("calc", result.GetValue<string>("ID"));
        Assert.Equal(3000, result.GetValue<int?>("--timeout-ms"));
        Assert.Null(result.GetValue<int?>("--memory-mb"));
        Assert.Equal(["a=1", "b=x=y"], result.GetValue<string[]>("--config")!);
        Assert.True(result.GetValue<bool>("--networking"));
    }

    [Fact]
    public async Task Storage_limits_parse_as_sizes_and_reach_the_create_request()
    {
        var result = Parse("vm", "create", "kv", "--storage-max-value-size", "64KiB", "--storage-max-keys", "100", "--storage-max-total-size", "2M");
        Assert.Null(CliErrors.Find(result));
        Assert.Equal(64 * 1024, result.GetValue<long?>("--storage-max-value-size"));
        Assert.Equal(100, result.GetValue<int?>("--storage-max-keys"));
        Assert.Equal(2L << 20, result.GetValue<long?>("--storage-max-total-size"));

        var options = new VmOptionArguments();
        var command = new Command("create");
        options.AddTo(command);
        var request = await options.ApplyAsync(new CreateVmRequest { Id = "kv" }, command.Parse(["--storage-max-keys", "7"]));
        Assert.Equal(new StorageLimitsDto(MaxKeys: 7), request.Limits?.Storage);
        Assert.Null((await options.ApplyAsync(new CreateVmRequest { Id = "kv" }, command.Parse([]))).Limits);
    }

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("512B", 512L)]
    [InlineData("64kib", 65536L)]
    [InlineData("3MiB", 3L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("0", null)]
    [InlineData("-5", null)]
    [InlineData("5 MiB", null)]
    [InlineData("MiB", null)]
    [InlineData("1.5MiB", null)]
    [InlineData("99999999999999999999", null)]
    [InlineData("9999999999999G", null)]
    public void Sizes_take_a_binary_unit(string text, long? bytes)
    {
        Assert.Equal(bytes, CliOptions.ParseSize(text));
    }

    [Fact]
    public void A_bad_storage_size_is_a_usage_error()
    {
        var result = Parse("vm", "create", "kv", "--storage-max-value-size", "lots");
        Assert.Contains("--storage-max-value-size needs a positive size", CliErrors.Find(result)?.Message);
    }

    [Fact]
    public void A_repeatable_option_takes_one_value_per_occurrence_so_the_code_stays_the_code()
    {
        var result = Parse("eval", "--config", "k=v", "return 1");

        Assert.Null(CliErrors.Find(result));
        Assert.Equal(["k=v"], result.GetValue<string[]>("--config")!);
        Assert.Equal(["return 1"], result.GetValue<string[]>("CODE")!);
        Assert.Equal("basic", result.GetValue<string>("--type"));
    }

    [Fact]
    public void An_argument_starting_with_at_is_itself_not_a_response_file()
    {
        var result = Parse("eval", "@/nonexistent/args.rsp");

        Assert.Null(CliErrors.Find(result));
        Assert.Equal(["@/nonexistent/args.rsp"], result.GetValue<string[]>("CODE")!);
    }

    [Fact]
    public void The_value_of_vm_send_is_json()
    {
        var result = Parse("vm", "send", "calc", "{\"k\": [1, 2]}");

        Assert.Equal(JsonValueKind.Object, result.GetValue<JsonElement>("VALUE").ValueKind);
        Assert.Equal(-1, Parse("vm", "send", "calc", "-1").GetValue<JsonElement>("VALUE").GetInt32());
    }

    [Fact]
    public void The_node_is_parsed_by_its_own_command_in_the_tree()
    {
        var good = Parse("node", "--port", "4101", "--seed", "akka.tcp://luaactors@127.0.0.1:4100");
        Assert.Null(CliErrors.Find(good));
        Assert.Equal(4101, good.GetValue<int?>("--port"));

        var bad = Parse("node", "--port", "4101", "--bogus");
        Assert.NotNull(CliErrors.Find(bad));
    }

    [Fact]
    public void The_node_url_and_token_come_from_the_command_line_then_the_environment_then_the_default()
    {
        var environment = new Dictionary<string, string> { ["LUAACTORS_NODE"] = "10.0.0.5:5081", ["LUAACTORS_TOKEN"] = "from-env" };
        var client = new ClientOptions(name => environment.GetValueOrDefault(name));
        var command = new Command("probe");
        client.AddTo(command);

        var fromEnvironment = client.Read(command.Parse([]));
        Assert.Equal(new Uri("http://10.0.0.5:5081/"), fromEnvironment.Node);
        Assert.Equal("from-env", fromEnvironment.Token);
        Assert.False(fromEnvironment.Json);

        var given = client.Read(command.Parse(["--node", "https://n.example/api", "--token", "t", "--json"]));
        Assert.Equal(new Uri("https://n.example/api/"), given.Node);
        Assert.Equal("t", given.Token);
        Assert.True(given.Json);

        var defaults = new ClientOptions(NoEnvironment);
        var bare = new Command("probe");
        defaults.AddTo(bare);
        Assert.Equal(new Uri(ClientOptions.DefaultNode + "/"), defaults.Read(bare.Parse([])).Node);
    }

    [Fact]
    public void A_bad_node_url_in_the_environment_is_a_bad_argument()
    {
        var client = new ClientOptions(name => name == "LUAACTORS_NODE" ? "ftp://x" : null);
        var command = new Command("probe");
        client.AddTo(command);

        var e = Assert.Throws<ArgumentException>(() => client.Read(command.Parse([])));
        Assert.Contains("--node needs the node's HTTP URL", e.Message);
    }

    [Theory]
    [InlineData("vm needs a command: create, ls, info, exec, rm, storage, send, link or unlink", "vm", "vm")]
    [InlineData("unknown command 'frob' for vm", "vm", "vm", "frob")]
    [InlineData("vm create needs ID", "vm create", "vm", "create")]
    [InlineData("--timeout-ms needs a positive whole number (got 'soon')", "vm create", "vm", "create", "a", "--timeout-ms", "soon")]
    [InlineData("--config takes KEY=VALUE (got 'novalue')", "vm create", "vm", "create", "a", "--config", "novalue")]
    [InlineData("unknown argument 'extra' for vm ls", "vm ls", "vm", "ls", "extra")]
    [InlineData("vm exec needs the code: either CODE or -f FILE", "vm exec", "vm", "exec", "only-id")]
    [InlineData("vm exec takes either CODE or -f FILE, not both", "vm exec", "vm", "exec", "a", "return 1", "-f", "x.lua")]
    [InlineData("unknown argument '--bogus' for vm info", "vm info", "vm", "info", "a", "--bogus")]
    [InlineData("unknown argument '--bogus' for vm exec", "vm exec", "vm", "exec", "a", "--bogus")]
    [InlineData("--node needs the node's HTTP URL, like http://127.0.0.1:5080 (got 'ftp://example.org')", "cluster", "cluster", "--node", "ftp://example.org")]
    [InlineData("--token needs a value", "cluster", "cluster", "--token")]
    [InlineData("invalid VM id '..'", "vm create", "vm", "create", "..")]
    [InlineData("invalid VM id 'a b'", "vm rm", "vm", "rm", "a b")]
    [InlineData("invalid VM id '..'", "vm link", "vm", "link", "a", "..")]
    [InlineData("VALUE must be JSON", "vm send", "vm", "send", "a", "word")]
    [InlineData("attach needs ID", "attach", "attach")]
    [InlineData("unknown argument 'b' for attach", "attach", "attach", "a", "b")]
    [InlineData("attach prints a conversation and has no --json", "attach", "attach", "a", "--json")]
    [InlineData("group create needs COUNT", "group create", "group", "create", "g")]
    [InlineData("COUNT must be a positive whole number (got 'none')", "group create", "group", "create", "g", "none")]
    [InlineData("COUNT must be a positive whole number (got '0')", "group create", "group", "create", "g", "0")]
    [InlineData("group exec needs the code: either CODE or -f FILE", "group exec", "group", "exec", "g")]
    [InlineData("group rm needs NAME", "group rm", "group", "rm")]
    [InlineData("eval needs the code: either CODE or -f FILE", "eval", "eval")]
    [InlineData("more than one CODE argument (quote the code)", "eval", "eval", "return 1", "return 2")]
    [InlineData("unknown argument '--bogus' for eval", "eval", "eval", "--bogus", "return 1")]
    [InlineData("unknown argument '--frob' for doctor", "doctor", "doctor", "--frob")]
    [InlineData("unknown command 'frobnicate'", "", "frobnicate")]
    [InlineData("Argument 'fish' not recognized. Must be one of:", "completion", "completion", "fish")]
    public async Task A_bad_command_line_exits_2_with_the_problem_and_where_the_usage_is(string message, string command, params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("luaactors: ", error);
        Assert.Contains(message, error);
        Assert.EndsWith($"run '{("luaactors " + command).TrimEnd()} --help' for usage\n", error);
    }

    [Fact]
    public async Task Help_is_the_asked_commands_own_with_its_examples()
    {
        var (exit, help, error) = await RunAsync("vm", "exec", "--help");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("luaactors vm exec <ID> [<CODE>] [options]", help);
        Assert.Contains("--repl", help);
        Assert.Contains("Examples:\n  luaactors vm exec calc", help);
        Assert.DoesNotContain("group", help);
        Assert.DoesNotContain("--init", help);

        var (_, root, _) = await RunAsync("--help");
        var (_, bare, _) = await RunAsync();
        var (_, ls, _) = await RunAsync("vm", "ls", "-h");
        var (_, helpCommand, _) = await RunAsync("help", "vm", "exec");
        Assert.NotEqual(root, help);
        Assert.Equal(root, bare);
        Assert.Equal(help, helpCommand);
        Assert.Contains("luaactors vm ls [options]", ls);
        Assert.DoesNotContain("--repl", ls);
        foreach (var command in new[] { "eval", "node", "doctor", "vm", "group", "publish", "cluster", "attach", "completion" })
        {
            Assert.Contains($"\n  {command} ", root);
        }
    }

    [Fact]
    public async Task Help_wins_over_a_bad_command_line()
    {
        var (exit, help, error) = await RunAsync("vm", "create", "--timeout-ms", "soon", "--help");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("luaactors vm create <ID> [options]", help);
    }

    [Fact]
    public async Task Version_prints_the_informational_version_of_the_program()
    {
        var (exit, output, _) = await RunAsync("--version");

        Assert.Equal(0, exit);
        var version = typeof(CliApp).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(version + "\n", output);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("'ls'", "vm", "lss")]
    [InlineData("'exec'", "vm", "exce", "a", "return 1")]
    [InlineData("'--json'", "vm", "ls", "--jsno")]
    [InlineData("'--timeout-ms'", "eval", "--timeout", "5", "return 1")]
    [InlineData("'group'", "grup")]
    public async Task A_typo_gets_the_nearest_word(string suggestion, params string[] args)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains($"did you mean {suggestion}?", error);
    }

    [Fact]
    public async Task With_json_a_usage_error_is_one_json_object_on_stderr()
    {
        var (exit, output, error) = await RunAsync("vm", "lss", "--json");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        using var typo = JsonDocument.Parse(error);
        Assert.Equal("usage", typo.RootElement.GetProperty("error").GetProperty("kind").GetString());
        Assert.Equal("unknown command 'lss' for vm", typo.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("ls", typo.RootElement.GetProperty("error").GetProperty("suggestions")[0].GetString());

        (exit, _, error) = await RunAsync("vm", "create", "a", "--timeout-ms", "soon", "--json");
        Assert.Equal(2, exit);
        using var bad = JsonDocument.Parse(error);
        Assert.Equal("--timeout-ms needs a positive whole number (got 'soon')", bad.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.False(bad.RootElement.GetProperty("error").TryGetProperty("suggestions", out _));

        // After `--`, --json is code, not the option.
        (exit, _, error) = await RunAsync("vm", "exec", "a", "--", "--json", "x");
        Assert.Equal(2, exit);
        Assert.StartsWith("luaactors: ", error);
    }

    [Fact]
    public void Failures_without_an_answer_are_json_with_json_and_a_line_without()
    {
        using var json = new StringWriter();
        Assert.Equal(1, CliErrors.PrintFailure(json, "unreachable", "cannot reach the node at http://h/: refused", json: true));
        using var document = JsonDocument.Parse(json.ToString());
        Assert.Equal("unreachable", document.RootElement.GetProperty("error").GetProperty("kind").GetString());
        Assert.Equal("cannot reach the node at http://h/: refused", document.RootElement.GetProperty("error").GetProperty("message").GetString());

        using var text = new StringWriter();
        CliErrors.PrintFailure(text, "unreachable", "cannot reach the node", json: false);
        Assert.Equal("luaactors: cannot reach the node\n", text.ToString());
    }

    [Fact]
    public void Progress_shows_only_at_a_terminal_and_counts_running_and_failed_members()
    {
        Assert.True(ProgressLine.ShouldShow(errorRedirected: false, outputRedirected: false));
        Assert.False(ProgressLine.ShouldShow(errorRedirected: true, outputRedirected: false));
        Assert.False(ProgressLine.ShouldShow(errorRedirected: false, outputRedirected: true));

        Assert.Equal("group w: 0/1000 VMs running", GroupClientCommands.CreationProgress("w", 1000, []));
        Assert.Equal(
            "group w: 2/1000 VMs running, 1 failed",
            GroupClientCommands.CreationProgress("w", 1000, ["running", "starting", "failed", "running"]));
    }

    [Fact]
    public async Task Progress_redraws_one_line_while_the_request_runs_and_clears_it()
    {
        using var terminal = new StringWriter();
        var request = new TaskCompletionSource<int>();
        var polls = 0;
        var waiting = ProgressLine.WhileAsync(request.Task, new ProgressLine(terminal), () =>
        {
            if (Interlocked.Increment(ref polls) == 2)
            {
                request.SetResult(7);
            }

            return Task.FromResult<string?>($"poll {polls}");
        });

        Assert.Equal(7, await waiting);
        Assert.StartsWith("\rpoll 1 (", terminal.ToString());
        Assert.EndsWith("\r\u001b[K", terminal.ToString());
        Assert.Equal(7, await ProgressLine.WhileAsync(Task.FromResult(7), null, () => throw new InvalidOperationException("no polls when quiet")));
    }

    private static ParseResult Parse(params string[] args) => CliApp.Create(NoEnvironment).Parse(args, CliApp.Parsing);

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, NoEnvironment, new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
