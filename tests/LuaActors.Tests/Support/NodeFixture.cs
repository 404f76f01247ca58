using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using LuaActors.Host;

namespace LuaActors.Tests.Support;

/// <summary>
/// One real `luaactors node` started in-process (NodeHost) on 127.0.0.1 with port 0 for both the
/// cluster and the HTTP API, shared by the tests of a class; each test makes its own VMs.
/// </summary>
public class NodeFixture : IAsyncLifetime
{
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

    /// <summary>What the node writes on stderr (its internal errors): kept for checks.</summary>
    public StringWriter ErrorText { get; } = new();

    private TextWriter Errors => TextWriter.Synchronized(ErrorText);

    /// <summary>A client of the node's API (with the token, if the node has one).</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await NodeHost.StartAsync(new NodeOptions { Port = 0, Http = _http, Token = _token, Config = TestConfig.Hocon, Errors = Errors });
        Client = NewClient(_token);
        // The node is its own seed: wait until it is Up, so /cluster shows a settled member.
        await Eventually.TrueAsync(async () =>
        {
            var cluster = await Client.GetFromJsonAsync<JsonElement>("cluster");
            return cluster.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("status").GetString() == "up");
        });
    }

    /// <summary>
    /// POST /vms for VM <paramref name="id"/>, with the request's other fields (type,
    /// initScript, limits, …) from <paramref name="fields"/>, an object; the answer as it came.
    /// </summary>
    public Task<HttpResponseMessage> PostVmAsync(string id, object? fields = null)
    {
        var body = fields is null ? [] : JsonSerializer.SerializeToNode(fields)!.AsObject();
        body["id"] = id;
        return Client.PostAsJsonAsync("vms", body);
    }

    /// <summary>Creates VM <paramref name="id"/> over the API (see <see cref="PostVmAsync"/>); anything but 201 Created fails the test.</summary>
    public async Task CreateVmAsync(string id, object? fields = null)
    {
        using var created = await PostVmAsync(id, fields);
        Assert.True(created.StatusCode == HttpStatusCode.Created,
            $"POST /vms {id}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates a VM with a fresh id starting with <paramref name="prefix"/> (see <see cref="CreateVmAsync"/>); returns the id.</summary>
    public async Task<string> NewVmAsync(string prefix, object? fields = null)
    {
        var id = ManagerFixture.NewId(prefix);
        await CreateVmAsync(id, fields);
        return id;
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
