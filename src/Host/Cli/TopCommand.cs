using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>
/// `luaactors top`: the cluster's nodes with their load and its VMs sorted by CPU, refreshed every
/// --interval seconds from GET /top (two readings make the rates); --json prints one snapshot.
/// </summary>
internal static class TopCommand
{
    public const double DefaultInterval = 1;

    public static Command Create(ClientOptions client)
    {
        var interval = new Option<double>("--interval")
        {
            Description = "seconds between refreshes, and over which --json measures the rates",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => DefaultInterval,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.1 and <= 3600)
                {
                    return seconds;
                }

                result.AddError($"--interval needs a number of seconds from 0.1 to 3600 (got '{text}')");
                return DefaultInterval;
            },
        };
        var limit = CliOptions.PositiveInt("--limit", "show the N busiest VMs (default: as many as the terminal holds; with --json, all)");
        var command = new Command("top", "a live view of the nodes and the busiest VMs (CPU, memory, restarts, executions/s, p99)")
        {
            interval, limit,
        };
        client.AddTo(command);
        command.SetAction((result, cancellationToken) => ClientRunner.RunAsync(result, () =>
            RunAsync(client.Read(result), result.GetValue(interval), result.GetValue(limit) ?? 0, cancellationToken)));
        return CliHelp.Document(
            command,
            """
            CPU% is of one core, over the interval; EXEC/S the executes answered per second; P99 the 99th
            percentile of their duration in the interval (of all the VM's executes when none ran in it),
            from the buckets of luaactors.vm.execution.duration. The VMs of every node come through the
            node asked (GET /top). Quit with q or Ctrl+C.
            """,
            "luaactors top",
            "luaactors top --interval 5 --limit 20",
            "luaactors top --json --node http://10.0.0.5:5080 --token \"$TOKEN\"");
    }

    private static async Task<int> RunAsync(ClientCommandLine line, double seconds, int limit, CancellationToken cancellationToken)
    {
        using var client = new ApiClient(line.Node, line.Token, TimeSpan.FromSeconds(Math.Max(10, seconds * 2)));
        var interval = TimeSpan.FromSeconds(seconds);
        if (line.Json)
        {
            var (first, failed) = await ReadAsync(client, line.Json);
            if (first is null)
            {
                return failed;
            }

            await Task.Delay(interval, cancellationToken);
            var (second, failedAgain) = await ReadAsync(client, line.Json);
            if (second is null)
            {
                return failedAgain;
            }

            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(TopView.Compute(first, second, limit), ApiJson.Server));
            return 0;
        }

        var terminal = !Console.IsOutputRedirected;
        if (terminal)
        {
            // The alternate screen, as top does: the shell's screen comes back on exit.
            Console.Write("\e[?1049h\e[?25l");
        }

        try
        {
            TopDto? previous = null;
            while (!cancellationToken.IsCancellationRequested)
            {
                var (current, failed) = await ReadAsync(client, json: false);
                if (current is null)
                {
                    return failed;
                }

                var height = terminal ? Math.Max(10, Console.WindowHeight) : int.MaxValue;
                var fit = limit > 0 ? limit : terminal ? Math.Max(1, height - current.Nodes.Count - 6) : 0;
                var lines = TopView.Render(TopView.Compute(previous, current, fit), terminal ? Math.Max(40, Console.WindowWidth) : int.MaxValue);
                Console.Out.Write(terminal
                    ? "\e[H" + string.Concat(lines.Take(height).Select(l => l + "\e[K\n")) + "\e[J"
                    : string.Join('\n', lines) + "\n");
                previous = current;
                if (await QuitAsync(interval, cancellationToken))
                {
                    break;
                }
            }

            return 0;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        finally
        {
            if (terminal)
            {
                Console.Write("\e[?25h\e[?1049l");
            }
        }
    }

    private static async Task<(TopDto? Top, int Failed)> ReadAsync(ApiClient client, bool json)
    {
        var response = await client.GetAsync("top");
        return response.IsSuccess ? (response.Read<TopDto>(), 0) : (null, await ClientRunner.FailAsync(response, json));
    }

    /// <summary>Waits <paramref name="interval"/>; true when q was pressed meanwhile (at a terminal).</summary>
    private static async Task<bool> QuitAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + interval;
        while (DateTime.UtcNow < until)
        {
            if (!Console.IsInputRedirected && Console.KeyAvailable && Console.ReadKey(intercept: true).KeyChar is 'q' or 'Q')
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100, interval.TotalMilliseconds)), cancellationToken);
        }

        return false;
    }
}
