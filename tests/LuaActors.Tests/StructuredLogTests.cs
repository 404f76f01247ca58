using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// `luaactors node --log-format json` (docs/operations.md, "Logs"): every stderr line is one JSON
/// object; a request and a VM's life (created, crashed, restarted, removed) are events with named
/// properties. A real node process, so its stderr is its own.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class StructuredLogTests
{
    [Fact]
    public async Task A_json_log_has_the_request_and_the_lifecycle_events_with_their_properties()
    {
        await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>(), args: ["--log-format", "json"]);
        var client = node.Client;
        using (var created = await client.PostAsJsonAsync("vms", new { id = "logged" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var executed = await client.PostAsJsonAsync("vms/logged/execute", new { code = "return 1 + 1" }))
        {
            Assert.Equal(HttpStatusCode.OK, executed.StatusCode);
        }

        var pid = (await InfoAsync(client)).GetProperty("processId").GetInt32();
        LuaProcesses.Kill9(pid);
        await Eventually.TrueAsync(async () =>
        {
            var info = await InfoAsync(client);
            return info.GetProperty("state").GetString() == "running" && info.GetProperty("restarts").GetInt32() == 1;
        });
        using (var removed = await client.DeleteAsync("vms/logged"))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await Eventually.TrueAsync(() => Events(node).Any(e => Id(e) == 105), what: "the VmRemoved log event");
        var events = Events(node);

        var request = Assert.Single(events, e => Category(e) == "LuaActors.Http" && State(e, "Path") == "/vms/logged/execute");
        Assert.Equal("Information", request.GetProperty("LogLevel").GetString());
        Assert.Equal("POST", State(request, "Method"));
        Assert.Equal(200, request.GetProperty("State").GetProperty("Status").GetInt32());
        Assert.Equal("logged", State(request, "VmId"));
        Assert.True(request.GetProperty("State").GetProperty("DurationMs").GetDouble() > 0);

        var create = Assert.Single(events, e => Category(e) == "LuaActors.Http" && State(e, "Path") == "/vms");
        Assert.Equal(201, create.GetProperty("State").GetProperty("Status").GetInt32());
        Assert.Equal("logged", State(create, "VmId"));

        var lifecycle = events.Where(e => Category(e) == "LuaActors.Vms" && State(e, "VmId") == "logged").ToList();
        Assert.Equal([100, 102, 103, 105], lifecycle.Select(Id));
        Assert.All(lifecycle, e => Assert.StartsWith("akka.tcp://luaactors@127.0.0.1:", State(e, "Node")));
        Assert.Equal(pid, lifecycle[0].GetProperty("State").GetProperty("ProcessId").GetInt32());
        Assert.Equal("Warning", lifecycle[1].GetProperty("LogLevel").GetString());
        Assert.Equal("process killed by signal 9 (exit code 137)", State(lifecycle[1], "Reason"));
        Assert.Equal(1, lifecycle[2].GetProperty("State").GetProperty("Restarts").GetInt32());
        Assert.Equal("process killed by signal 9 (exit code 137)", State(lifecycle[2], "Reason"));

        // Akka's own lines come through the same log: the VM actor's warning about the loss,
        // its text alone, the actor in a property of its own.
        var akka = Assert.Single(events, e => Category(e)!.StartsWith("Akka.", StringComparison.Ordinal)
            && e.GetProperty("Message").GetString()!.Contains("VM logged: process killed by signal 9", StringComparison.Ordinal));
        Assert.Contains("/logged", State(akka, "LogSource"));
        Assert.DoesNotContain("[WARNING]", akka.GetProperty("Message").GetString());
    }

    /// <summary>Every stderr line so far, each of which must be one JSON object.</summary>
    private static List<JsonElement> Events(NodeProcess node) =>
        node.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line =>
            {
                try
                {
                    var parsed = JsonDocument.Parse(line).RootElement.Clone();
                    Assert.Equal(JsonValueKind.Object, parsed.ValueKind);
                    return parsed;
                }
                catch (JsonException e)
                {
                    throw new Xunit.Sdk.XunitException($"a stderr line is not JSON ({e.Message}): {line}");
                }
            })
            .ToList();

    private static int Id(JsonElement e) => e.GetProperty("EventId").GetInt32();

    private static string? Category(JsonElement e) => e.GetProperty("Category").GetString();

    private static string? State(JsonElement e, string name) =>
        e.GetProperty("State").TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static async Task<JsonElement> InfoAsync(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync("vms/logged")).RootElement.Clone();
}
