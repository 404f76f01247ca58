namespace LuaActors.Persistence;

/// <summary>
/// What a VM's <see cref="VmWiringJournal"/> writes: one event per change of its peers, topics or
/// StartServer listeners (docs/guarantees.md, "What survives what"). Serialized as JSON by
/// <see cref="SpecJournalSerializer"/> (the record's name is the manifest), so a name never
/// changes once written and a new field must be optional.
/// </summary>
public interface IVmWiringEvent : ISpecJournalMessage;

/// <summary>Event: <c>vm.broadcast</c> reaches <see cref="PeerId"/> (LinkPeer).</summary>
public sealed record WiringPeerLinked(string PeerId) : IVmWiringEvent;

/// <summary>Event: the link to <see cref="PeerId"/> is gone (UnlinkPeer).</summary>
public sealed record WiringPeerUnlinked(string PeerId) : IVmWiringEvent;

/// <summary>Event: the VM receives what is published on <see cref="Topic"/>.</summary>
public sealed record WiringTopicSubscribed(string Topic) : IVmWiringEvent;

/// <summary>Event: the VM no longer receives <see cref="Topic"/>.</summary>
public sealed record WiringTopicUnsubscribed(string Topic) : IVmWiringEvent;

/// <summary>Event: StartServer opened a listener (host as given, port as bound), opened again by every new process.</summary>
public sealed record WiringServerStarted(string Host, int Port) : IVmWiringEvent;

/// <summary>Event: the listener on <see cref="Port"/> was closed (or could not be opened again): not opened again.</summary>
public sealed record WiringServerStopped(int Port) : IVmWiringEvent;

/// <summary>Event: a reset closed every listener.</summary>
public sealed record WiringServersCleared : IVmWiringEvent
{
    public static readonly WiringServersCleared Instance = new();
}

/// <summary>One StartServer listener in a <see cref="WiringSnapshot"/>.</summary>
public sealed record WiringServer(string Host, int Port);

/// <summary>Snapshot (and what a load answers): the VM's peers, topics and StartServer listeners, in order.</summary>
public sealed record WiringSnapshot(IReadOnlyList<string> Peers, IReadOnlyList<string> Topics, IReadOnlyList<WiringServer> Servers)
    : ISpecJournalMessage
{
    public static readonly WiringSnapshot Empty = new([], [], []);
}
