using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using LuaActors.Api;

namespace LuaActors.Host;

/// <summary>
/// One accepted attach WebSocket and its <see cref="VmSession"/>, which live and die together:
/// the client's messages become session calls, the session's events become JSON messages
/// (AttachContracts). Closing the socket, or losing the connection, detaches the session; the
/// session ending (detached, VM removed) closes the socket.
/// </summary>
internal sealed class SessionSocket(WebSocket socket, VmSession session, TextWriter errors)
{
    /// <summary>A bigger client message is refused (an error message), not buffered.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    /// <summary>How long a closing socket waits for the client's close frame before cutting it.</summary>
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _sending = new(1, 1);
    private Task? _detach;
    // Set on the receive side, read by the event pump.
    private volatile bool _detachAsked;
    private volatile bool _stopped;

    /// <param name="sessions">Every session on the VM, for the first message.</param>
    /// <param name="stopping">The node is stopping: close with 1001.</param>
    /// <param name="aborted">The connection broke.</param>
    public async Task RunAsync(IReadOnlyList<string> sessions, CancellationToken stopping, CancellationToken aborted)
    {
        // Cancelling a WebSocket receive aborts the connection: only a broken connection, or a
        // client that does not answer our close frame in time, cancels it.
        using var cutOff = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var nodeStops = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopping = stopping.Register(() => nodeStops.TrySetResult());
        await SendAsync(new AttachedMessage(session.VmId, session.SessionId, sessions));
        var pumping = PumpEventsAsync();
        var receiving = ReceiveAsync(cutOff.Token);
        if (await Task.WhenAny(pumping, receiving, nodeStops.Task) != pumping)
        {
            // The client left, or the node stops: leave the VM; the events then end.
            StartDetach();
        }

        var (status, reason) = stopping.IsCancellationRequested ? (WebSocketCloseStatus.EndpointUnavailable, "the node is stopping")
            : _stopped ? (WebSocketCloseStatus.NormalClosure, "the VM was removed or stopped")
            : (WebSocketCloseStatus.NormalClosure, "detached");
        if (stopping.IsCancellationRequested)
        {
            // Tell the client at once; the session's last events are not worth the wait.
            await CloseAsync(status, reason);
        }

        await pumping;
        await CloseAsync(status, reason);

        // Let the client answer the close frame, then cut the connection.
        cutOff.CancelAfter(CloseWait);
        await receiving;
        if (_detach is not null)
        {
            await _detach;
        }
    }

    /// <summary>Sends every event of the session until it ends; keeps draining if the socket is gone.</summary>
    private async Task PumpEventsAsync()
    {
        await foreach (var next in session.Events())
        {
            if (SessionMessage.From(next) is { } message)
            {
                _stopped |= message is StoppedMessage;
                await SendAsync(message);
            }
        }

        if (_detachAsked && !_stopped)
        {
            await SendAsync(new DetachedMessage(session.SessionId));
        }
    }

    /// <summary>Reads the client's messages until it closes, the connection breaks or <paramref name="end"/> fires.</summary>
    private async Task ReceiveAsync(CancellationToken end)
    {
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var received = await socket.ReceiveAsync(buffer.GetMemory(4096), end);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                buffer.Advance(received.Count);
                if (buffer.WrittenCount > MaxMessageBytes)
                {
                    // Skip the rest of this message; the next one is read normally.
                    while (!received.EndOfMessage)
                    {
                        buffer.ResetWrittenCount();
                        received = await socket.ReceiveAsync(buffer.GetMemory(4096), end);
                    }

                    buffer.ResetWrittenCount();
                    await SendErrorAsync($"a message may have at most {MaxMessageBytes} bytes");
                    continue;
                }

                if (!received.EndOfMessage)
                {
                    continue;
                }

                if (received.MessageType == WebSocketMessageType.Binary)
                {
                    await SendErrorAsync("binary messages are not understood: send JSON text messages");
                }
                else
                {
                    await HandleAsync(buffer.WrittenMemory);
                }

                buffer.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The connection broke, or the close wait is over.
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> json)
    {
        SessionRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<SessionRequest>(json.Span, ApiJson.Server);
        }
        catch (JsonException e)
        {
            await SendErrorAsync($"invalid message: {e.Message}");
            return;
        }

        switch (request)
        {
            case { Type: SessionRequest.Input, Line: { } line }:
                await session.SendInputAsync(line);
                break;
            case { Type: SessionRequest.Input }:
                await SendErrorAsync("an input needs \"line\", a string");
                break;
            case { Type: SessionRequest.Interrupt }:
                await session.InterruptAsync();
                break;
            case { Type: SessionRequest.Detach }:
                StartDetach();
                break;
            default:
                await SendErrorAsync(
                    $"unknown message type \"{request?.Type}\": send \"input\", \"interrupt\" or \"detach\"");
                break;
        }
    }

    /// <summary>Asks the session to leave once; the event pump sees it end.</summary>
    private void StartDetach()
    {
        if (_detach is not null)
        {
            return;
        }

        _detachAsked = true;
        _detach = DetachAsync();
    }

    private async Task DetachAsync()
    {
        try
        {
            await session.DisposeAsync();
        }
        catch (Exception e)
        {
            await errors.WriteLineAsync($"luaactors node: detaching session {session.SessionId} of {session.VmId} failed: {e.Message}");
        }
    }

    private Task SendErrorAsync(string message) => SendAsync(new SessionErrorMessage(ApiErrors.InvalidRequest, message));

    /// <summary>One message at a time (a WebSocket takes one send at once); a gone client is not an error.</summary>
    private async Task SendAsync(SessionMessage message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, ApiJson.Server);
        await _sending.WaitAsync();
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            // The client is gone; the receive side ends the session.
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        await _sending.WaitAsync();
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseWait);
                await socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Already gone.
        }
        finally
        {
            _sending.Release();
        }
    }
}
