namespace LuaActors.Vm;

/// <summary>
/// A VM's peers (the targets of <c>vm.broadcast</c>) and the topics it subscribed to. They belong
/// to the VM's actor: they outlive a process restart and a reset, and move with a hand-over.
/// </summary>
internal sealed class VmLinks
{
    private readonly SortedSet<string> _peers = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _topics = new(StringComparer.Ordinal);

    /// <summary>In order, as the VM's info lists them and <c>vm.peers()</c> returns them.</summary>
    public IReadOnlyCollection<string> Peers => _peers;

    public IReadOnlyCollection<string> Topics => _topics;

    public void Link(string peerId) => _peers.Add(peerId);

    public void Unlink(string peerId) => _peers.Remove(peerId);

    public void Subscribe(string topic) => _topics.Add(topic);

    public void Unsubscribe(string topic) => _topics.Remove(topic);

    public bool IsSubscribed(string topic) => _topics.Contains(topic);
}
