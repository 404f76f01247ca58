using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>`luaactors vm create|ls|info|exec|rm`: the HTTP API of a node, for people and scripts.</summary>
internal static class VmClientCommands
{
    public static Command Create(ClientOptions client)
    {
        var vm = new Command("vm", "create, list, inspect, run code in and remove the cluster's VMs; send them messages");
        vm.Add(CreateCommand(client));
        vm.Add(ListCommand(client));
        vm.Add(InfoCommand(client));
        vm.Add(ExecCommand(client));
        vm.Add(RemoveCommand(client));
        vm.Add(StorageClientCommands.Create(client));
        vm.Add(MessageClientCommands.CreateSend(client));
        vm.Add(MessageClientCommands.CreateLink(client));
        vm.Add(MessageClientCommands.CreateUnlink(client));
        return CliHelp.Document(vm, null, "luaactors vm create calc", "luaactors vm exec calc 'return 1 + 1'", "luaactors vm ls");
    }

    private static Command CreateCommand(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the new VM's id (1-128 of A-Z a-z 0-9 . _ -)");
        var vmOptions = new VmOptionArguments();
        var command = new Command("create", "create a VM on the cluster") { id };
        vmOptions.AddTo(command);
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, async () =>
            await CreateAsync(client.Read(result), await vmOptions.ApplyAsync(new CreateVmRequest { Id = result.GetValue(id) }, result))));
        return CliHelp.Document(
            command,
            null,
            "luaactors vm create calc",
            "luaactors vm create calc --init init.lua --timeout-ms 3000 --memory-mb 32",
            "luaactors vm create net1 --networking --config allow=example.org:443");
    }

    private static Command ListCommand(ClientOptions client)
    {
        var command = new Command("ls", "list the VMs");
        command.Aliases.Add("list");
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => ListAsync(client.Read(result))));
        return CliHelp.Document(command, null, "luaactors vm ls", "luaactors vm ls --json");
    }

    private static Command InfoCommand(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        var command = new Command("info", "show one VM") { id };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => InfoAsync(client.Read(result), result.GetValue(id)!)));
        return CliHelp.Document(command, null, "luaactors vm info calc");
    }

    private static Command ExecCommand(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        var code = CliOptions.Code();
        var file = CliOptions.CodeFile();
        var repl = new Option<bool>("--repl") { Description = "read the code as a REPL line (an expression shows its value)" };
        var timeoutMs = CliOptions.PositiveInt("--timeout-ms", "time limit of this request");
        var memoryMb = CliOptions.PositiveInt("--memory-mb", "Lua heap limit of this request (at most the VM's)");
        var command = new Command("exec", "run CODE in a VM") { id, code, file, repl, timeoutMs, memoryMb };
        client.AddTo(command);
        CliOptions.RequireCodeOrFile(command, code, file);
        command.SetAction(result => ClientRunner.RunAsync(result, async () => await ExecAsync(
            client.Read(result),
            result.GetValue(id)!,
            new ExecuteRequest
            {
                Code = await CliOptions.CodeAsync(result, code, file),
                Mode = result.GetValue(repl) ? "repl" : null,
                TimeoutMs = result.GetValue(timeoutMs),
                MemoryMb = result.GetValue(memoryMb),
            })));
        return CliHelp.Document(
            command,
            """
            vm exec prints like eval: what the code printed, then one value as itself, several as a JSON
            array, none as nothing. Exit codes: 0 ok, 1 Lua error, error answer or node unreachable (kind
            and message on stderr), 2 bad arguments.
            """,
            "luaactors vm exec calc 'print(greeting) return math.sqrt(16)'",
            "luaactors vm exec calc -f job.lua --timeout-ms 60000",
            "luaactors vm exec calc --repl 'counter'",
            "luaactors vm exec calc --json 'return 1, 2.5'");
    }

    private static Command RemoveCommand(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        var command = new Command("rm", "remove a VM and stop its process") { id };
        command.Aliases.Add("remove");
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => RemoveAsync(client.Read(result), result.GetValue(id)!)));
        return CliHelp.Document(command, null, "luaactors vm rm calc");
    }

    private static async Task<int> CreateAsync(ClientCommandLine line, CreateVmRequest request)
    {
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

    private static async Task<int> InfoAsync(ClientCommandLine line, string id)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.GetAsync(ApiClient.VmPath(id));
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

    private static async Task<int> ExecAsync(ClientCommandLine line, string id, ExecuteRequest request)
    {
        using var client = new ApiClient(
            line.Node, line.Token, ClientRunner.RequestTimeout + TimeSpan.FromMilliseconds(request.TimeoutMs ?? 0));
        var response = await client.PostAsync(ApiClient.VmPath(id) + "/execute", request);
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

    private static async Task<int> RemoveAsync(ClientCommandLine line, string id)
    {
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
