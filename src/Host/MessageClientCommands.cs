using System.Text.Json;

namespace LuaActors.Host;

/// <summary>`luaactors vm send|link|unlink` and `luaactors publish`: messaging over a node's HTTP API.</summary>
internal static class MessageClientCommands
{
    /// <summary>`vm send ID VALUE`: VALUE (JSON) into the VM's inbox.</summary>
    public static async Task<int> SendAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID", "VALUE");
        var id = line.VmIdAt(0);
        var request = new MessageRequest { Value = ParseValue(line.Positionals[1]) };
        return await PostAsync(line, ApiClient.VmPath(id) + "/messages", request, body =>
        {
            var accepted = JsonSerializer.Deserialize<MessageAcceptedDto>(body, ApiJson.Client)!;
            return $"sent to {accepted.Vm} ({accepted.InboxCount} waiting in its inbox)";
        });
    }

    /// <summary>`publish TOPIC VALUE`: VALUE (JSON) to every VM subscribed to TOPIC.</summary>
    public static Task<int> PublishAsync(string[] args, Func<string, string?> environment) => ClientRunner.RunAsync(async () =>
    {
        var line = ClientCommandLine.Parse("publish", args, [], [], environment);
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("TOPIC", "VALUE");
        var topic = line.Positionals[0];
        var request = new MessageRequest { Value = ParseValue(line.Positionals[1]) };
        return await PostAsync(line, "topics/" + Uri.EscapeDataString(topic) + "/messages", request, _ => $"published on {topic}");
    });

    /// <summary>`vm link ID PEER`: peers both ways (vm.peers, vm.broadcast).</summary>
    public static async Task<int> LinkAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID", "PEER");
        var (id, peer) = (line.VmIdAt(0), line.VmIdAt(1));
        return await PostAsync(line, ApiClient.VmPath(id) + "/peers", new LinkRequest { Peer = peer }, _ => $"linked {id} and {peer}");
    }

    /// <summary>`vm unlink ID PEER`.</summary>
    public static async Task<int> UnlinkAsync(ClientCommandLine line)
    {
        if (line.HelpRequested)
        {
            return Usage.Print(Console.Out, 0);
        }

        line.ExpectPositionals("ID", "PEER");
        var (id, peer) = (line.VmIdAt(0), line.VmIdAt(1));
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
    private static JsonElement ParseValue(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ArgumentException($"VALUE must be JSON, e.g. 42, '\"text\"' or '{{\"k\": [1, 2]}}' (got '{text}')");
        }
    }

}
