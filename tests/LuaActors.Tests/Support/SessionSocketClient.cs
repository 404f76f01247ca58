using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace LuaActors.Tests.Support;

/// <summary>A raw client of the attach WebSocket (GET /vms/{id}/attach): JSON messages in and out.</summary>
internal sealed class SessionSocketClient : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private SessionSocketClient(ClientWebSocket socket, JsonElement attached)
    {
        Socket = socket;
        Attached = attached;
    }

    public ClientWebSocket Socket { get; }

    /// <summary>The node's first message.</summary>
    public JsonElement Attached { get; }

    public string SessionId => Attached.GetProperty("sessionId").GetString()!;

    /// <summary>ws:// URL of a VM's attach endpoint on the node at <paramref name="node"/> (http://…/).</summary>
    public static Uri UrlOf(Uri node, string vmId, string query = "") =>
        new UriBuilder(new Uri(node, $"vms/{vmId}/attach")) { Scheme = "ws", Query = query }.Uri;

    /// <summary>Connects (token in the Authorization header, if any) and reads the "attached" message.</summary>
    public static async Task<SessionSocketClient> ConnectAsync(Uri node, string vmId, string? token = null, string query = "")
    {
        var socket = new ClientWebSocket();
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        using var timeout = new CancellationTokenSource(Wait);
        await socket.ConnectAsync(UrlOf(node, vmId, query), timeout.Token);
        var attached = await ReceiveAsync(socket) ?? throw new InvalidOperationException("closed before 'attached'");
        Assert.Equal("attached", attached.GetProperty("type").GetString());
        return new SessionSocketClient(socket, attached);
    }

    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public Task SendInputAsync(string line) => SendAsync(new { type = "input", line });

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(Wait);
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>The next message; null when the node closed the socket.</summary>
    public Task<JsonElement?> NextAsync() => ReceiveAsync(Socket);

    /// <summary>Skips messages until one of <paramref name="type"/> (and matching <paramref name="where"/>) comes.</summary>
    public async Task<JsonElement> NextAsync(string type, Func<JsonElement, bool>? where = null)
    {
        while (true)
        {
            var message = await NextAsync() ?? throw new InvalidOperationException($"closed while waiting for '{type}'");
            if (message.GetProperty("type").GetString() == type && (where?.Invoke(message) ?? true))
            {
                return message;
            }
        }
    }

    /// <summary>The next "evaluated" message of a line typed in <paramref name="session"/> (default: this one).</summary>
    public Task<JsonElement> EvaluatedAsync(string? session = null) =>
        NextAsync("evaluated", m => m.GetProperty("session").GetString() == (session ?? SessionId));

    /// <summary>Sends a line and returns its "evaluated" message.</summary>
    public async Task<JsonElement> EvalAsync(string line)
    {
        await SendInputAsync(line);
        return await EvaluatedAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(Wait);
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test over", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The node is gone.
            }
        }

        Socket.Dispose();
    }

    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Wait);
        using var text = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            text.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonDocument.Parse(text.ToArray()).RootElement.Clone();
            }
        }
    }
}
