using System.CommandLine;

namespace LuaActors.Host.Cli;

/// <summary>`luaactors cluster`: the members as one node sees them, with their VM counts.</summary>
internal static class ClusterCommand
{
    public static Command Create(ClientOptions client)
    {
        var command = new Command("cluster", "show the members, their status and VM counts");
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => RunAsync(client.Read(result))));
        return CliHelp.Document(command, null, "luaactors cluster", "luaactors cluster --node http://10.0.0.5:5080 --token \"$TOKEN\"");
    }

    private static async Task<int> RunAsync(ClientCommandLine line)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.GetAsync("cluster");
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            return 0;
        }

        var cluster = response.Read<ClusterDto>();
        TableWriter.Write(
            Console.Out,
            ["ADDRESS", "STATUS", "REACHABLE", "ROLES", "VMS", ""],
            cluster.Members.Select(member => (IReadOnlyList<string>)
            [
                member.Address,
                member.Status,
                member.Reachable ? "yes" : "NO",
                member.Roles.Count > 0 ? string.Join(",", member.Roles) : "-",
                member.Vms.ToString(),
                string.Join(", ", new[]
                {
                    member.Address == cluster.Leader ? "leader" : null,
                    member.Address == cluster.Self ? "this node" : null,
                }.OfType<string>()),
            ]));
        var elsewhere = cluster.Vms - cluster.Members.Sum(m => m.Vms);
        await Console.Out.WriteLineAsync(
            $"{cluster.Members.Count} members, {cluster.Vms} VMs" + (elsewhere > 0 ? $" ({elsewhere} on no current member)" : ""));
        return 0;
    }
}
