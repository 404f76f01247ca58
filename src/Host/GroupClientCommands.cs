using System.Globalization;

namespace LuaActors.Host;

/// <summary>`luaactors group create|exec|rm`: VM groups NAME-1..N through the node's /groups endpoints.</summary>
internal static class GroupClientCommands
{
    public static Task<int> RunAsync(string[] args, Func<string, string?> environment) => ClientRunner.RunAsync(async () =>
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("group needs a command: create, exec or rm");
        }

        if (args[0] is "-h" or "--help")
        {
            return Usage.Print(Console.Out, 0);
        }

        var rest = args[1..];
        var line = args[0] switch
        {
            "create" => ClientCommandLine.Parse("group create", rest, VmOptionArguments.Names, VmOptionArguments.Flags, environment),
            "exec" => ClientCommandLine.Parse("group exec", rest, ["--file", "--timeout-ms", "--memory-mb"], [], environment),
            "rm" or "remove" => ClientCommandLine.Parse("group rm", rest, [], [], environment),
            _ => throw new ArgumentException($"unknown group command '{args[0]}' (create, exec, rm)"),
        };
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        return line.Command switch
        {
            "group create" => await CreateAsync(line),
            "group exec" => await ExecAsync(line),
            _ => await RemoveAsync(line),
        };
    });

    private static async Task<int> CreateAsync(ClientCommandLine line)
    {
        line.ExpectPositionals("NAME", "COUNT");
        var countText = line.Positionals[1];
        if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            throw new ArgumentException($"COUNT must be a positive whole number (got '{countText}')");
        }

        var request = await VmOptionArguments.ApplyAsync(new CreateGroupRequest { Name = line.Positionals[0], Count = count }, line);
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.PostAsync("groups", request);
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

    /// <summary>Prints every member's result (a "== ID ==" line, then as `vm exec` prints); exit 1 if any failed.</summary>
    private static async Task<int> ExecAsync(ClientCommandLine line)
    {
        var code = await line.CodeAsync("NAME");
        var timeoutMs = line.PositiveInt("--timeout-ms");
        var request = new GroupExecuteRequest { Code = code, TimeoutMs = timeoutMs, MemoryMb = line.PositiveInt("--memory-mb") };
        using var client = new ApiClient(
            line.Node, line.Token, ClientRunner.RequestTimeout + TimeSpan.FromMilliseconds(timeoutMs ?? 0));
        var response = await client.PostAsync(GroupPath(line.Positionals[0]) + "/execute", request);
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

    private static async Task<int> RemoveAsync(ClientCommandLine line)
    {
        line.ExpectPositionals("NAME");
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.DeleteAsync(GroupPath(line.Positionals[0]));
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
