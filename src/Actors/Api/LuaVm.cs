using System.Text.Json;
using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>
/// A handle on one VM (the old library's VM object): it carries every per-VM operation, each a
/// call on its <see cref="VmManager"/> with this VM's id, so <c>vm.ExecuteAsync(code)</c> and
/// <c>manager.ExecuteAsync(vm.Id, code)</c> are the same request. Requests without a time limit
/// of their own may run <see cref="VmManager.DefaultTimeout"/> (5 s by default). After the
/// manager is disposed every call throws <see cref="ObjectDisposedException"/> at once.
/// </summary>
public sealed class LuaVm
{
    private readonly VmManager _manager;

    internal LuaVm(VmManager manager, string id)
    {
        _manager = manager;
        Id = id;
    }

    public string Id { get; }

    /// <summary>The manager this handle calls.</summary>
    public VmManager Manager => _manager;

    /// <inheritdoc cref="VmManager.ExecuteAsync(string, string, ExecuteOptions?, CancellationToken)"/>
    public Task<ExecuteResult> ExecuteAsync(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.ExecuteAsync(Id, code, options, cancellationToken);

    /// <summary>Runs <paramref name="code"/> and converts its first value to <typeparamref name="T"/> (time limit as <see cref="ExecuteAsync(string, ExecuteOptions?, CancellationToken)"/>).</summary>
    public Task<T?> ExecuteAsync<T>(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.ExecuteAsync<T>(Id, code, options, cancellationToken);

    public Task<ExecuteResult> EvalAsync(string line, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.EvalAsync(Id, line, options, cancellationToken);

    public Task<VmInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _manager.GetVmInfoAsync(Id, cancellationToken);

    public Task ResetAsync(CancellationToken cancellationToken = default) => _manager.ResetVmAsync(Id, cancellationToken);

    public Task<VmPong> PingAsync(CancellationToken cancellationToken = default) => _manager.PingVmAsync(Id, cancellationToken);

    public Task RemoveAsync(CancellationToken cancellationToken = default) => _manager.RemoveVmAsync(Id, cancellationToken);

    /// <inheritdoc cref="VmManager.GetStorageAsync"/>
    public Task<IReadOnlyDictionary<string, JsonElement>> GetStorageAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        _manager.GetStorageAsync(Id, prefix, cancellationToken);

    /// <inheritdoc cref="VmManager.AttachAsync"/>
    public Task<VmSession> AttachAsync(CancellationToken cancellationToken = default) => _manager.AttachAsync(Id, cancellationToken);

    /// <summary>Puts <paramref name="value"/> into this VM's inbox (<see cref="VmManager.SendAsync"/>).</summary>
    public Task<int> SendAsync(object? value, CancellationToken cancellationToken = default) => _manager.SendAsync(Id, value, cancellationToken);

    /// <inheritdoc cref="VmManager.ReceiveFromVmAsync"/>
    public Task<JsonElement?> ReceiveFromVmAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _manager.ReceiveFromVmAsync(Id, timeout, cancellationToken);

    public Task SubscribeAsync(string topic, CancellationToken cancellationToken = default) => _manager.SubscribeAsync(Id, topic, cancellationToken);

    public Task UnsubscribeAsync(string topic, CancellationToken cancellationToken = default) => _manager.UnsubscribeAsync(Id, topic, cancellationToken);

    /// <inheritdoc cref="VmManager.LinkAsync"/>
    public Task LinkAsync(string peerId, CancellationToken cancellationToken = default) => _manager.LinkAsync(Id, peerId, cancellationToken);

    /// <summary>Links this VM and <paramref name="peer"/> both ways (the old <c>establish_p2p_with</c>).</summary>
    public Task LinkAsync(LuaVm peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _manager.LinkAsync(Id, peer.Id, cancellationToken);
    }

    public Task UnlinkAsync(string peerId, CancellationToken cancellationToken = default) => _manager.UnlinkAsync(Id, peerId, cancellationToken);

    public Task UnlinkAsync(LuaVm peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _manager.UnlinkAsync(Id, peer.Id, cancellationToken);
    }

    /// <inheritdoc cref="VmNetworking.StartServerAsync"/>
    public Task<int> StartServerAsync(int port, string host = "127.0.0.1", CancellationToken cancellationToken = default) =>
        _manager.StartServerAsync(Id, port, host, cancellationToken);

    /// <inheritdoc cref="VmNetworking.StopServerAsync"/>
    public Task<bool> StopServerAsync(int port, CancellationToken cancellationToken = default) =>
        _manager.StopServerAsync(Id, port, cancellationToken);

    /// <inheritdoc cref="VmNetworking.ConnectToAsync"/>
    public Task<int> ConnectToAsync(string host, int port, CancellationToken cancellationToken = default) =>
        _manager.ConnectToAsync(Id, host, port, cancellationToken);

    /// <inheritdoc cref="VmNetworking.SendDataAsync"/>
    public Task<int> SendDataAsync(string data, int? connection = null, CancellationToken cancellationToken = default) =>
        _manager.SendDataAsync(Id, data, connection, cancellationToken);

    /// <inheritdoc cref="VmNetworking.ReceiveMessageAsync"/>
    public Task<SocketMessage?> ReceiveMessageAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _manager.ReceiveMessageAsync(Id, timeout, cancellationToken);

    public override string ToString() => Id;
}
