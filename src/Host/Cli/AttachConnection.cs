using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>The node refused the attach before the upgrade; <see cref="Response"/> is its error answer.</summary>
internal sealed class AttachRefusedException(ApiResponse response) : Exception(response.ErrorText())
{
    public ApiResponse Response { get; } = response;
}

/// <summary>The client end of the attach WebSocket (GET /vms/{id}/attach): JSON messages in and out.</summary>
internal sealed class AttachConnection : IDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);

    private AttachConnection(ClientWebSocket socket)
    {
        _socket = socket;
    }

    /// <summary>
    /// Connects with the token in the Authorization header. Throws
    /// <see cref="AttachRefusedException"/> when the node answers with an error instead of the
    /// upgrade, <see cref="NodeUnreachableException"/> when it cannot be reached.
    /// </summary>
    public static async Task<AttachConnection> ConnectAsync(Uri node, string? token, string vmId, CancellationToken cancellationToken)
    {
        var path = ApiClient.VmPath(vmId) + "/attach";
        var url = new UriBuilder(new Uri(node, path)) { Scheme = node.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (!string.IsNullOrEmpty(token))
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        try
        {
            await socket.ConnectAsync(url, cancellationToken);
            return new AttachConnection(socket);
        }
        catch (WebSocketException e)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            if (status == 0)
            {
                throw new NodeUnreachableException($"cannot reach the node at {node}: {e.InnerException?.Message ?? e.Message}");
            }

            // ClientWebSocket keeps the refusal's body to itself: ask again without the upgrade,
            // which the endpoint answers with the same error JSON.
            using var client = new ApiClient(node, token, ClientRunner.RequestTimeout);
            var response = await client.GetAsync(path);
            throw new AttachRefusedException(response.IsSuccess ? new ApiResponse(status, "") : response);
        }
    }

    public async Task SendAsync(SessionRequest request)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request, ApiJson.Client);
        await _sending.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>The next message the client understands; null once the node closed the socket.</summary>
    public async Task<SessionMessage?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var received = await _socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync();
                return null;
            }

            buffer.Advance(received.Count);
            if (!received.EndOfMessage)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<SessionMessage>(buffer.WrittenSpan, ApiJson.Client) is { } message)
                {
                    return message;
                }
            }
            catch (JsonException)
            {
                // A message type of a newer node: not for this client.
            }

            buffer.ResetWrittenCount();
        }
    }

    /// <summary>Answers (or starts) the closing handshake.</summary>
    public async Task CloseAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _sending.WaitAsync();
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The node is gone already.
            }
            finally
            {
                _sending.Release();
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
