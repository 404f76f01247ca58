using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Host;

namespace LuaActors.Tests.Support;

/// <summary>
/// One real `luaactors node` started in-process (NodeHost) on 127.0.0.1 with port 0 for both the
/// cluster and the HTTP API, shared by the tests of a class; each test makes its own VMs.
/// </summary>
public class NodeFixture : IAsyncLifetime
{
    /// <summary>Test-friendly limits, like ManagerFixture's.</summary>
    public const string TestConfig = """
        akka.loglevel = WARNING
        luaactors.vm.default-timeout = 10s
        luaactors.vm.kill-grace = 2s
        """;

    private readonly string? _token;
    private readonly string _http;

    public NodeFixture()
        : this(null, "127.0.0.1:0")
    {
    }

    protected NodeFixture(string? token, string http)
    {
        _token = token;
        _http = http;
    }

    internal RunningNode Node { get; private set; } = null!;

    public Uri Url => Node.HttpUrl;

    public string? Token => _token;

    /// <summary>A client of the node's API (with the token, if the node has one).</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await NodeHost.StartAsync(new NodeOptions { Port = 0, Http = _http, Token = _token, Config = TestConfig });
        Client = NewClient(_token);
        // The node is its own seed: wait until it is Up, so /cluster shows a settled member.
        await Eventually.TrueAsync(async () =>
        {
            var cluster = await Client.GetFromJsonAsync<JsonElement>("cluster");
            return cluster.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("status").GetString() == "up");
        });
    }

    public HttpClient NewClient(string? token)
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Node is not null)
        {
            await Node.StopAsync();
        }
    }
}

/// <summary>A node with a token, listening on every address (which requires one).</summary>
public sealed class TokenNodeFixture() : NodeFixture(TokenValue, "0.0.0.0:0")
{
    public const string TokenValue = "s3cret-token";
}

/// <summary>A node with a token on loopback: the CLI tests pass it through LUAACTORS_TOKEN.</summary>
public sealed class LoopbackTokenNodeFixture() : NodeFixture("cli-token", "127.0.0.1:0");
