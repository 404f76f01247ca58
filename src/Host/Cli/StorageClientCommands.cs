using System.CommandLine;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>`luaactors vm storage ID [--prefix P]`: a VM's durable storage (GET /vms/{id}/storage; docs/storage.md).</summary>
internal static class StorageClientCommands
{
    public static Command Create(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        var prefix = new Option<string>("--prefix") { Description = "only the keys that start with this" };
        var command = new Command("storage", "show a VM's durable storage: key, then value (--json: one object, an export)") { id, prefix };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => ShowAsync(client.Read(result), result.GetValue(id)!, result.GetValue(prefix))));
        return CliHelp.Document(command, null, "luaactors vm storage shop", "luaactors vm storage shop --prefix stock. --json > shop.json");
    }

    private static async Task<int> ShowAsync(ClientCommandLine line, string id, string? prefix)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var path = ApiClient.VmPath(id) + "/storage" + (string.IsNullOrEmpty(prefix) ? "" : "?prefix=" + Uri.EscapeDataString(prefix));
        var response = await client.GetAsync(path);
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        if (line.Json)
        {
            await Console.Out.WriteLineAsync(response.Body);
            return 0;
        }

        using var entries = JsonDocument.Parse(response.Body);
        foreach (var entry in entries.RootElement.EnumerateObject())
        {
            await Console.Out.WriteLineAsync(entry.Name + "\t" + entry.Value.GetRawText());
        }

        return 0;
    }
}
