using Akka.Actor;
using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Persistence;

namespace LuaActors.UnitTests.Persistence;

/// <summary>
/// The durable links, topics and StartServer listeners of a VM as events rebuild them
/// (<see cref="VmWiringState"/>), and their events through the journal's serializer.
/// </summary>
public sealed class VmWiringStateTests
{
    [Fact]
    public void Events_rebuild_peers_topics_and_servers_in_order()
    {
        var state = new VmWiringState();
        IVmWiringEvent[] events =
        [
            new WiringPeerLinked("b"), new WiringPeerLinked("a"), new WiringPeerLinked("c"), new WiringPeerUnlinked("c"),
            new WiringTopicSubscribed("news"), new WiringTopicSubscribed("old"), new WiringTopicUnsubscribed("old"),
            new WiringServerStarted("127.0.0.1", 20001), new WiringServerStarted("::1", 20002), new WiringServerStopped(20001),
            new WiringServerStarted("127.0.0.1", 20003),
        ];
        foreach (var change in events)
        {
            state.Apply(change);
        }

        var snapshot = state.Snapshot();
        Assert.Equal(["a", "b"], snapshot.Peers);
        Assert.Equal(["news"], snapshot.Topics);
        Assert.Equal([new WiringServer("::1", 20002), new WiringServer("127.0.0.1", 20003)], snapshot.Servers);

        state.Apply(WiringServersCleared.Instance);
        Assert.Empty(state.Snapshot().Servers);
        Assert.False(state.IsEmpty);
    }

    [Fact]
    public void A_change_that_changes_nothing_says_so_so_it_is_not_written()
    {
        var state = new VmWiringState();
        Assert.False(state.WouldChange(new WiringPeerUnlinked("a")));
        Assert.False(state.WouldChange(new WiringTopicUnsubscribed("t")));
        Assert.False(state.WouldChange(new WiringServerStopped(20001)));
        Assert.False(state.WouldChange(WiringServersCleared.Instance));
        Assert.True(state.WouldChange(new WiringPeerLinked("a")));

        state.Apply(new WiringPeerLinked("a"));
        state.Apply(new WiringTopicSubscribed("t"));
        state.Apply(new WiringServerStarted("127.0.0.1", 20001));
        Assert.False(state.WouldChange(new WiringPeerLinked("a")));
        Assert.False(state.WouldChange(new WiringTopicSubscribed("t")));
        Assert.False(state.WouldChange(new WiringServerStarted("127.0.0.1", 20001)));
        Assert.True(state.WouldChange(new WiringServerStarted("::1", 20001)));
        Assert.True(state.WouldChange(new WiringServerStopped(20001)));
        Assert.True(state.WouldChange(new WiringPeerUnlinked("a")));
        Assert.True(state.WouldChange(new WiringTopicUnsubscribed("t")));
        Assert.True(state.WouldChange(WiringServersCleared.Instance));

        // The same listener twice is one listener.
        state.Apply(new WiringServerStarted("127.0.0.1", 20001));
        Assert.Single(state.Snapshot().Servers);
    }

    [Fact]
    public void A_snapshot_restores_the_state_it_was_taken_of()
    {
        var state = new VmWiringState();
        state.Apply(new WiringPeerLinked("p"));
        state.Apply(new WiringTopicSubscribed("t"));
        state.Apply(new WiringServerStarted("127.0.0.1", 20005));
        var restored = new VmWiringState();
        restored.Apply(new WiringPeerLinked("stale"));
        restored.Restore(state.Snapshot());
        Assert.Equivalent(state.Snapshot(), restored.Snapshot(), strict: true);

        restored.Clear();
        Assert.True(restored.IsEmpty);
    }

    [Fact]
    public void Events_and_snapshots_round_trip_through_the_journal_serializer_by_name()
    {
        using var system = ActorSystem.Create("wiring-serialization", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(LuaActorsConfig.Default));
        var serialization = system.Serialization;
        object[] samples =
        [
            new WiringPeerLinked("p"), new WiringPeerUnlinked("p"), new WiringTopicSubscribed("t"), new WiringTopicUnsubscribed("t"),
            new WiringServerStarted("::1", 20001), new WiringServerStopped(20001), WiringServersCleared.Instance,
            new WiringSnapshot(["a", "b"], ["t"], [new WiringServer("127.0.0.1", 20001)]),
        ];
        foreach (var sample in samples)
        {
            var serializer = serialization.FindSerializerFor(sample);
            Assert.IsType<SpecJournalSerializer>(serializer);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
            Assert.Equal(sample.GetType().Name, manifest);
            var back = serialization.Deserialize(serializer.ToBinary(sample), serializer.Identifier, manifest);
            Assert.Equivalent(sample, back, strict: true);
        }
    }
}
