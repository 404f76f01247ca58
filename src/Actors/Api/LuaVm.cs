using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>A handle on one VM: every call goes through its <see cref="VmManager"/>.</summary>
public sealed class LuaVm
{
    private readonly VmManager _manager;

    internal LuaVm(VmManager manager, string id)
    {
        _manager = manager;
        Id = id;
    }

    public string Id { get; }

    public Task<ExecuteResult> ExecuteAsync(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.ExecuteAsync(Id, code, options, cancellationToken);

    public Task<T?> ExecuteAsync<T>(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.ExecuteAsync<T>(Id, code, options, cancellationToken);

    public Task<ExecuteResult> EvalAsync(string line, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        _manager.EvalAsync(Id, line, options, cancellationToken);

    public Task<VmInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _manager.GetVmInfoAsync(Id, cancellationToken);

    public Task ResetAsync(CancellationToken cancellationToken = default) => _manager.ResetVmAsync(Id, cancellationToken);

    public Task<VmPong> PingAsync(CancellationToken cancellationToken = default) => _manager.PingVmAsync(Id, cancellationToken);

    public Task RemoveAsync(CancellationToken cancellationToken = default) => _manager.RemoveVmAsync(Id, cancellationToken);

    /// <summary>Puts <paramref name="value"/> into this VM's inbox (<see cref="VmManager.SendAsync"/>).</summary>
    public Task<int> SendAsync(object? value, CancellationToken cancellationToken = default) => _manager.SendAsync(Id, value, cancellationToken);

    public Task SubscribeAsync(string topic, CancellationToken cancellationToken = default) => _manager.SubscribeAsync(Id, topic, cancellationToken);

    public Task LinkAsync(string peerId, CancellationToken cancellationToken = default) => _manager.LinkAsync(Id, peerId, cancellationToken);

    public override string ToString() => Id;
}
