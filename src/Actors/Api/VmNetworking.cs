using System.Text.Json;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>
/// What a VM's socket received: one line from connection <see cref="Connection"/>, or its
/// closing; or the end of the VM's listener on port <see cref="Server"/> (stopped, or its
/// accept failing), with <see cref="Connection"/> 0.
/// </summary>
/// <param name="Closed">Set (e.g. "closed") when the connection or listener ended; <see cref="Data"/> is then empty.</param>
/// <param name="Server">The listener's port when a listener ended; null otherwise.</param>
public sealed record SocketMessage(int Connection, string Data, string? Closed = null, int? Server = null);

/// <summary>
/// The old library's networking calls (start_server, connect, send, receive) over a VM created
/// with <see cref="VmOptions.Networking"/>: the sockets live in the VM's Lua process (LuaSocket,
/// inside the network rule of <c>luaactors.vm.networking</c>), served by background tasks, so the VM
/// keeps answering requests, sessions and messages meanwhile. Lines are the unit: what is sent
/// gets a "\n", what is received is split at "\n".
/// </summary>
public static class VmNetworking
{
    private static readonly string Helpers = EmbeddedText.Read("LuaActors.sockets.lua");

    /// <summary>The chunk that opens a listener with the helpers (what <see cref="StartServer"/> runs, and a restart again).</summary>
    internal static string ServeCode(string host, int port) =>
        "(function()\n" + Helpers + "\nend)()\n" + $"return luaactors_net.serve({Literal(host)}, {port.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <summary>Closes the VM's listener on <paramref name="port"/>; returns whether it had one.</summary>
    internal static string StopCode(int port) =>
        "(function()\n" + Helpers + "\nend)()\n" + $"return luaactors_net.stop({port.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <summary>
    /// Listens on <paramref name="host"/>:<paramref name="port"/> in the VM (port 0: a free port of
    /// <c>luaactors.vm.networking.listen-ports</c>); returns the port. The VM's actor remembers the
    /// listener: after a process restart (a crash, <c>kill -9</c>) it listens on the same port again.
    /// </summary>
    public static async Task<int> StartServerAsync(
        this VmManager manager, string vmId, int port, string host = "127.0.0.1", CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ArgumentException.ThrowIfNullOrEmpty(host);
        return (await manager.StartServerCoreAsync(vmId, host, port, cancellationToken).ConfigureAwait(false)).Port;
    }

    /// <summary>
    /// Closes the VM's listener on <paramref name="port"/> (from <see cref="StartServerAsync"/>);
    /// connections it accepted stay open. Returns false when the VM has no listener there.
    /// <see cref="ReceiveMessageAsync"/> then returns the listener's end: a <see cref="SocketMessage"/>
    /// with <see cref="SocketMessage.Server"/> = <paramref name="port"/> and <see cref="SocketMessage.Closed"/> set.
    /// </summary>
    public static async Task<bool> StopServerAsync(this VmManager manager, string vmId, int port, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(manager, vmId, $"return luaactors_net.stop({port})", cancellationToken).ConfigureAwait(false);
        return result.Get<bool>();
    }

    /// <summary>Connects the VM to <paramref name="host"/>:<paramref name="port"/>; returns the connection's id.</summary>
    public static async Task<int> ConnectToAsync(
        this VmManager manager, string vmId, string host, int port, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(manager, vmId, $"return luaactors_net.connect({Literal(host)}, {port})", cancellationToken).ConfigureAwait(false);
        return result.Get<int>();
    }

    /// <summary>
    /// Sends <paramref name="data"/> and "\n" from the VM over one connection, or over all of its
    /// connections when <paramref name="connection"/> is null; returns how many took it.
    /// </summary>
    public static async Task<int> SendDataAsync(
        this VmManager manager, string vmId, string data, int? connection = null, CancellationToken cancellationToken = default)
    {
        var target = connection is { } id ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "nil";
        var result = await RunAsync(manager, vmId, $"return luaactors_net.send({Literal(data)}, {target})", cancellationToken).ConfigureAwait(false);
        return result.Get<int>();
    }

    /// <summary>The next line any of the VM's connections received (or a closing), waiting up to <paramref name="timeout"/>; null when none came.</summary>
    public static async Task<SocketMessage?> ReceiveMessageAsync(
        this VmManager manager, string vmId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await manager.ReceiveFromVmAsync(vmId, timeout, cancellationToken).ConfigureAwait(false) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("connection", out var connection) && connection.TryGetInt32(out var id))
        {
            return new SocketMessage(
                id,
                value.TryGetProperty("data", out var data) ? data.GetString() ?? "" : "",
                value.TryGetProperty("closed", out var closed) ? closed.GetString() ?? "closed" : null);
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("server", out var server) && server.TryGetInt32(out var port)
            && value.TryGetProperty("closed", out var why) && why.ValueKind == JsonValueKind.String)
        {
            return new SocketMessage(0, "", why.GetString(), port);
        }

        // Anything else the VM's own code sent to '$host' comes out as its JSON on connection 0.
        return new SocketMessage(0, value.GetRawText());
    }

    private static Task<ExecuteResult> RunAsync(VmManager manager, string vmId, string call, CancellationToken cancellationToken) =>
        manager.ExecuteAsync(vmId, "(function()\n" + Helpers + "\nend)()\n" + call, cancellationToken: cancellationToken);

    private static string Literal(string text) => LuaLiteral.FromJson(JsonSerializer.SerializeToElement(text));
}
