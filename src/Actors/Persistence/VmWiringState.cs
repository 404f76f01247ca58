namespace LuaActors.Persistence;

/// <summary>
/// A VM's durable peers, topics and StartServer listeners, as its <see cref="VmWiringJournal"/>
/// rebuilds them from events. Plain state: says whether an event would change anything (a change
/// that would not is answered at once, with no write) and applies it.
/// </summary>
public sealed class VmWiringState
{
    private readonly SortedSet<string> _peers = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _topics = new(StringComparer.Ordinal);
    private readonly List<WiringServer> _servers = [];

    public bool IsEmpty => _peers.Count == 0 && _topics.Count == 0 && _servers.Count == 0;

    public bool WouldChange(IVmWiringEvent change) => change switch
    {
        WiringPeerLinked linked => !_peers.Contains(linked.PeerId),
        WiringPeerUnlinked unlinked => _peers.Contains(unlinked.PeerId),
        WiringTopicSubscribed subscribed => !_topics.Contains(subscribed.Topic),
        WiringTopicUnsubscribed unsubscribed => _topics.Contains(unsubscribed.Topic),
        WiringServerStarted started => !_servers.Contains(new WiringServer(started.Host, started.Port)),
        WiringServerStopped stopped => _servers.Exists(s => s.Port == stopped.Port),
        WiringServersCleared => _servers.Count > 0,
        _ => false,
    };

    public void Apply(IVmWiringEvent change)
    {
        switch (change)
        {
            case WiringPeerLinked linked:
                _peers.Add(linked.PeerId);
                break;
            case WiringPeerUnlinked unlinked:
                _peers.Remove(unlinked.PeerId);
                break;
            case WiringTopicSubscribed subscribed:
                _topics.Add(subscribed.Topic);
                break;
            case WiringTopicUnsubscribed unsubscribed:
                _topics.Remove(unsubscribed.Topic);
                break;
            case WiringServerStarted started when WouldChange(started):
                _servers.Add(new WiringServer(started.Host, started.Port));
                break;
            case WiringServerStopped stopped:
                // As the VM's listener book: a port is closed whatever host it was opened on.
                _servers.RemoveAll(s => s.Port == stopped.Port);
                break;
            case WiringServersCleared:
                _servers.Clear();
                break;
        }
    }

    public WiringSnapshot Snapshot() => new([.. _peers], [.. _topics], [.. _servers]);

    public void Restore(WiringSnapshot snapshot)
    {
        Clear();
        _peers.UnionWith(snapshot.Peers);
        _topics.UnionWith(snapshot.Topics);
        _servers.AddRange(snapshot.Servers);
    }

    public void Clear()
    {
        _peers.Clear();
        _topics.Clear();
        _servers.Clear();
    }
}
