namespace LuaActors.Host;

/// <summary>`luaactors vm create|ls|info|exec|rm`: the HTTP API of a node, for people and scripts.</summary>
internal static class VmClientCommands
{
    public static Task<int> RunAsync(string[] args, Func<string, string?> environment) => ClientRunner.RunAsync(async () =>
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("vm needs a command: create, ls, info, exec, rm, send, link or unlink");
        }

        if (args[0] is "-h" or "--help")
        {
            return Usage.Print(Console.Out, 0);
        }

        var rest = args[1..];
        return args[0] switch
        {
            "create" => await CreateAsync(ClientCommandLine.Parse(
                "vm create", rest, VmOptionArguments.Names, VmOptionArguments.Flags, environment)),
            "ls" or "list" => await ListAsync(ClientCommandLine.Parse("vm ls", rest, [], [], environment)),
            "info" => await InfoAsync(ClientCommandLine.Parse("vm info", rest, [], [], environment)),
            "exec" => await ExecAsync(ClientCommandLine.Parse(
                "vm exec", rest, ["--file", "--timeout-ms", "--memory-mb"], ["--repl"], environment)),
            "rm" or "remove" => await RemoveAsync(ClientCommandLine.Parse("vm rm", rest, [], [], environment)),
            "send" => await MessageClientCommands.SendAsync(ClientCommandLine.Parse("vm send", rest, [], [], environment)),
            "link" => await MessageClientCommands.LinkAsync(ClientCommandLine.Parse("vm link", rest, [], [], environment)),
            "unlink" => await MessageClientCommands.UnlinkAsync(ClientCommandLine.Parse("vm unlink", rest, [], [], environment)),
            _ => throw new ArgumentException($"unknown vm command '{args[0]}' (create, ls, info, exec, rm, send, link, unlink)"),
        };
    });

    private static async Task<int> CreateAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID");
        var request = await VmOptionArguments.ApplyAsync(new CreateVmRequest { Id = line.VmIdAt(0) }, line);
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.PostAsync("vms", request);
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            return 0;
        }

        var info = response.Read<VmInfoDto>();
        await Console.Out.WriteLineAsync(
            $"created {info.Id} on {info.Node} ({info.Type}, {info.State}{(info.ProcessId is { } pid ? $", pid {pid}" : "")})");
        return 0;
    }

    private static async Task<int> ListAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals();
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.GetAsync("vms");
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            return 0;
        }

        var vms = response.Read<VmListDto>().Vms;
        if (vms.Count == 0)
        {
            await Console.Out.WriteLineAsync("no VMs");
            return 0;
        }

        TableWriter.Write(
            Console.Out,
            ["ID", "TYPE", "STATE", "PID", "NODE", "RESTARTS", "MEMORY", "UPTIME"],
            vms.Select(vm => (IReadOnlyList<string>)
            [
                vm.Id, vm.Type, vm.State, vm.ProcessId?.ToString() ?? "-", ClientRunner.ShortNode(vm.Node),
                vm.Restarts.ToString(), ClientRunner.Bytes(vm.ResidentBytes), ClientRunner.Duration(vm.UptimeMs),
            ]));
        return 0;
    }

    private static async Task<int> InfoAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID");
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.GetAsync(ApiClient.VmPath(line.VmIdAt(0)));
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            return 0;
        }

        var vm = response.Read<VmInfoDto>();
        TableWriter.WriteRecord(Console.Out,
        [
            ("id", vm.Id),
            ("type", vm.Type),
            ("state", vm.State),
            ("pid", vm.ProcessId?.ToString() ?? "-"),
            ("node", vm.Node.Length > 0 ? vm.Node : "-"),
            ("restarts", vm.Restarts.ToString()),
            ("uptime", ClientRunner.Duration(vm.UptimeMs)),
            ("memory", ClientRunner.Bytes(vm.ResidentBytes)),
            ("pending", vm.PendingRequests.ToString()),
            ("last error", vm.LastError ?? "-"),
            ("sessions", vm.Sessions is { Count: > 0 } sessions ? string.Join(", ", sessions) : "-"),
            ("inbox", vm.InboxCount.ToString()),
            ("peers", vm.Peers is { Count: > 0 } peers ? string.Join(", ", peers) : "-"),
            ("topics", vm.Topics is { Count: > 0 } topics ? string.Join(", ", topics) : "-"),
        ]);
        return 0;
    }

    private static async Task<int> ExecAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        var code = await line.CodeAsync("ID");
        var timeoutMs = line.PositiveInt("--timeout-ms");
        var request = new ExecuteRequest
        {
            Code = code,
            Mode = line.Has("--repl") ? "repl" : null,
            TimeoutMs = timeoutMs,
            MemoryMb = line.PositiveInt("--memory-mb"),
        };
        using var client = new ApiClient(
            line.Node, line.Token, ClientRunner.RequestTimeout + TimeSpan.FromMilliseconds(timeoutMs ?? 0));
        var response = await client.PostAsync(ApiClient.VmPath(line.VmIdAt(0)) + "/execute", request);
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        var result = response.Read<ExecuteResponse>();
        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            if (result is { Ok: false, Error: { } jsonError })
            {
                await Console.Error.WriteLineAsync($"{jsonError.Kind}: {jsonError.Message}");
            }

            return result.Ok ? 0 : 1;
        }

        return await ResultPrinter.PrintAsync(result) ? 0 : 1;
    }

    private static async Task<int> RemoveAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID");
        var id = line.VmIdAt(0);
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.DeleteAsync(ApiClient.VmPath(id));
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        await Console.Out.WriteLineAsync(line.Json
            ? System.Text.Json.JsonSerializer.Serialize(new { id, removed = true }, ApiJson.Client)
            : $"removed {id}");
        return 0;
    }

}
