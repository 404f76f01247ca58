using System.CommandLine;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>`luaactors vm send|link|unlink` and `luaactors publish`: messaging over a node's HTTP API.</summary>
internal static class MessageClientCommands
{
    /// <summary>`vm send ID VALUE`: VALUE (JSON) into the VM's inbox.</summary>
    public static Command CreateSend(ClientOptions client)
    {
        var id = CliOptions.VmId("ID", "the VM");
        var value = Value();
        var command = new Command("send", "put VALUE (JSON) into the VM's inbox (its vm.receive gets it)") { id, value };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () =>
            PostAsync(client.Read(result), ApiClient.VmPath(result.GetValue(id)!) + "/messages", new MessageRequest { Value = result.GetValue(value) }, body =>
            {
                var accepted = JsonSerializer.Deserialize<MessageAcceptedDto>(body, ApiJson.Client)!;
                return $"sent to {accepted.Vm} ({accepted.InboxCount} waiting in its inbox)";
            })));
        return CliHelp.Document(command, null, "luaactors vm send calc 42", "luaactors vm send calc '{\"job\": [1, 2]}'");
    }

    /// <summary>`publish TOPIC VALUE`: VALUE (JSON) to every VM subscribed to TOPIC.</summary>
    public static Command CreatePublish(ClientOptions client)
    {
        var topic = new Argument<string>("TOPIC") { Description = "the topic (VMs subscribe with vm.subscribe)" };
        var value = Value();
        var command = new Command("publish", "send VALUE (JSON) to every VM subscribed to TOPIC") { topic, value };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () =>
        {
            var name = result.GetValue(topic)!;
            return PostAsync(
                client.Read(result), "topics/" + Uri.EscapeDataString(name) + "/messages",
                new MessageRequest { Value = result.GetValue(value) }, _ => $"published on {name}");
        }));
        return CliHelp.Document(command, null, "luaactors publish prices '{\"eur\": 1.08}'");
    }

    /// <summary>`vm link ID PEER`: peers both ways (vm.peers, vm.broadcast).</summary>
    public static Command CreateLink(ClientOptions client)
    {
        var (id, peer) = (CliOptions.VmId("ID", "one VM"), CliOptions.VmId("PEER", "the other VM"));
        var command = new Command("link", "make two VMs peers (vm.peers, vm.broadcast)") { id, peer };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () =>
        {
            var (a, b) = (result.GetValue(id)!, result.GetValue(peer)!);
            return PostAsync(client.Read(result), ApiClient.VmPath(a) + "/peers", new LinkRequest { Peer = b }, _ => $"linked {a} and {b}");
        }));
        return CliHelp.Document(command, null, "luaactors vm link left right");
    }

    /// <summary>`vm unlink ID PEER`.</summary>
    public static Command CreateUnlink(ClientOptions client)
    {
        var (id, peer) = (CliOptions.VmId("ID", "one VM"), CliOptions.VmId("PEER", "the other VM"));
        var command = new Command("unlink", "undo vm link") { id, peer };
        client.AddTo(command);
        command.SetAction(result => ClientRunner.RunAsync(result, () => UnlinkAsync(client.Read(result), result.GetValue(id)!, result.GetValue(peer)!)));
        return CliHelp.Document(command, null, "luaactors vm unlink left right");
    }

    private static async Task<int> UnlinkAsync(ClientCommandLine line, string id, string peer)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.DeleteAsync(ApiClient.VmPath(id) + "/peers/" + Uri.EscapeDataString(peer));
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        await Console.Out.WriteLineAsync(line.Json
            ? JsonSerializer.Serialize(new { id, peer, unlinked = true }, ApiJson.Client)
            : $"unlinked {id} and {peer}");
        return 0;
    }

    private static async Task<int> PostAsync(ClientCommandLine line, string path, object request, Func<string, string> describe)
    {
        using var client = new ApiClient(line.Node, line.Token, ClientRunner.RequestTimeout);
        var response = await client.PostAsync(path, request);
        if (!response.IsSuccess)
        {
            return await ClientRunner.FailAsync(response, line.Json);
        }

        await Console.Out.WriteLineAsync(line.Json ? response.Body : describe(response.Body));
        return 0;
    }

    /// <summary>VALUE is JSON, so 42 and "42" stay apart; a bare word is a usage error, not a guess.</summary>
    private static Argument<JsonElement> Value() => new("VALUE")
    {
        Description = "a JSON value: 42, '\"text\"', '{\"k\": [1, 2]}'",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            try
            {
                using var document = JsonDocument.Parse(text);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                result.AddError($"VALUE must be JSON, e.g. 42, '\"text\"' or '{{\"k\": [1, 2]}}' (got '{text}')");
                return default;
            }
        },
    };
}
