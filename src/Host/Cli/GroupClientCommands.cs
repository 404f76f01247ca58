using System.CommandLine;
using System.Globalization;

namespace LuaActors.Host.Cli;

/// <summary>`luaactors group create|exec|rm`: VM groups NAME-1..N through the node's /groups endpoints.</summary>
internal static class GroupClientCommands
{
    public static Command Create(ClientOptions client)
    {
        var group = new Command("group", "VM groups NAME-1..NAME-COUNT: create, run code on all, remove");
        group.Add(CreateCommand(client));
        group.Add(ExecCommand(client));
        group.Add(RemoveCommand(client));
        return CliHelp.Document(group, null, "luaactors group create workers 4 --init init.lua", "luaactors group exec workers 'return vm.id()'", "luaactors group rm workers");
    }

    private static Command CreateCommand(ClientOptions client)
    {
        var name = new Argument<string>("NAME") { Description = "the group: its VMs are NAME-1..NAME-COUNT" };
        var count = new Argument<int>("COUNT")
        {
            Description = "how many VMs",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1)
                {
                    return number;
                }

                result.AddError($"COUNT must be a positive whole number (got '{text}')");
                return 0;
            },
        };
        var vmOptions = new VmOptionArguments();
        var command = new Command("create", "create VMs NAME-1..NAME-COUNT (with the options of vm create)") { name, count };
        vmOptions.AddTo(command);
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, async () => await CreateAsync(
            client.Read(result),
            await vmOptions.ApplyAsync(new CreateGroupRequest { Name = result.GetValue(name), Count = result.GetValue(count) }, result))));
        return CliHelp.Document(
            command,
            """
            At a terminal, a line on stderr shows how many of the group's VMs are running so far (and
            how many failed) while the node creates them; it polls GET /groups/NAME, since the node
            creates the whole group in one request (and removes them all again if one fails).
            """,
            "luaactors group create workers 100",
            "luaactors group create workers 4 --init init.lua --memory-mb 16");
    }

    private static Command ExecCommand(ClientOptions client)
    {
        var name = new Argument<string>("NAME") { Description = "the group" };
        var code = CliOptions.Code();
        var file = CliOptions.CodeFile();
        var timeoutMs = CliOptions.PositiveInt("--timeout-ms", "time limit of this request on each VM");
        var memoryMb = CliOptions.PositiveInt("--memory-mb", "Lua heap limit of this request (at most the VMs')");
        var command = new Command("exec", "run CODE on every VM of the group") { name, code, file, timeoutMs, memoryMb };
        client.AddTo(command);
        CliOptions.RequireCodeOrFile(command, code, file);
        command.SetAction(result => ClientRunner.RunAsync(result, async () => await ExecAsync(
            client.Read(result),
            result.GetValue(name)!,
            new GroupExecuteRequest
            {
                Code = await CliOptions.CodeAsync(result, code, file),
                TimeoutMs = result.GetValue(timeoutMs),
                MemoryMb = result.GetValue(memoryMb),
            })));
        return CliHelp.Document(
            command,
            """
            group exec prints '== ID ==' and then each VM's result like vm exec, in member order, and
            exits 1 if any VM failed (all results are printed still).
            """,
            "luaactors group exec workers 'return vm.id()'",
            "luaactors group exec workers -f job.lua --json");
    }

    private static Command RemoveCommand(ClientOptions client)
    {
        var name = new Argument<string>("NAME") { Description = "the group" };
        var command = new Command("rm", "remove every VM of the group") { name };
        command.Aliases.Add("remove");
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => RemoveAsync(client.Read(result), result.GetValue(name)!)));
        return CliHelp.Document(
            command,
            "At a terminal, a line on stderr shows how many of the group's VMs are gone so far (polling GET /groups/NAME).",
            "luaactors group rm workers");
    }

    private static async Task<int> CreateAsync(ClientCommandLine line, CreateGroupRequest request)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        using var poller = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await ProgressLine.WhileAsync(
            client.PostAsync("groups", request),
            ProgressLine.ForConsole(),
            async () => CreationProgress(request.Name!, request.Count!.Value, await MemberStatesAsync(poller, request.Name!)));
        if (!response.IsSuccess || line.Json)
        {
            return await PrintBodyAsync(response, line.Json);
        }

        var group = response.Read<GroupDto>();
        TableWriter.Write(
            Console.Out,
            ["ID", "STATE", "PID", "NODE"],
            group.Vms.Select(vm => (IReadOnlyList<string>)
                [vm.Id, vm.State, vm.ProcessId?.ToString() ?? "-", ClientRunner.ShortNode(vm.Node)]));
        await Console.Out.WriteLineAsync($"created group {group.Name}: {group.Vms.Count} VMs");
        return 0;
    }

    /// <summary>The progress line of a group creation from its members' states so far.</summary>
    public static string CreationProgress(string name, int total, IReadOnlyList<string> states)
    {
        var running = states.Count(s => s == "running");
        var failed = states.Count(s => s == "failed");
        return $"group {name}: {running}/{total} VMs running" + (failed > 0 ? $", {failed} failed" : "");
    }

    /// <summary>The states of the group's members as the node lists them now (none yet: 404).</summary>
    private static async Task<IReadOnlyList<string>> MemberStatesAsync(ApiClient client, string name)
    {
        var response = await client.GetAsync(GroupPath(name));
        return response.IsSuccess ? response.Read<GroupDto>().Vms.Select(vm => vm.State).ToList() : [];
    }

    /// <summary>Prints every member's result (a "== ID ==" line, then as `vm exec` prints); exit 1 if any failed.</summary>
    private static async Task<int> ExecAsync(ClientCommandLine line, string name, GroupExecuteRequest request)
    {
        using var client = new ApiClient(
            line.Node, line.Token, ClientRunner.RequestTimeout + TimeSpan.FromMilliseconds(request.TimeoutMs ?? 0));
        var response = await client.PostAsync(GroupPath(name) + "/execute", request);
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        var answer = response.Read<GroupExecuteResponse>();
        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
        }
        else
        {
            foreach (var result in answer.Results)
            {
                await ResultPrinter.WriteStdoutAsync($"== {result.VmId} ==\n");
                await ResultPrinter.PrintAsync(result);
            }
        }

        var failed = answer.Results.Where(r => !r.Ok).Select(r => r.VmId).ToList();
        if (failed.Count > 0)
        {
            await Console.Error.WriteLineAsync($"{failed.Count} of {answer.Results.Count} VMs failed: {string.Join(", ", failed)}");
        }

        return answer.Ok ? 0 : 1;
    }

    private static async Task<int> RemoveAsync(ClientCommandLine line, string name)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        using var poller = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var progress = ProgressLine.ForConsole();
        var total = progress is null ? 0 : (await MemberStatesAsync(poller, name)).Count;
        var response = await ProgressLine.WhileAsync(
            client.DeleteAsync(GroupPath(name)),
            progress,
            async () => $"group {name}: {total - (await MemberStatesAsync(poller, name)).Count}/{total} VMs removed");
        if (!response.IsSuccess || line.Json)
        {
            return await PrintBodyAsync(response, line.Json);
        }

        var removed = response.Read<GroupRemovedDto>();
        await Console.Out.WriteLineAsync($"removed group {removed.Name}: {removed.Removed} VMs");
        return 0;
    }

    /// <summary>A failed answer (exit 1), or with --json a successful one as it came (exit 0).</summary>
    private static async Task<int> PrintBodyAsync(ApiResponse response, bool json)
    {
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, json);
        }

        await Console.Out.WriteLineAsync(response.Body);
        return 0;
    }

    private static string GroupPath(string name) => "groups/" + Uri.EscapeDataString(name);
}
