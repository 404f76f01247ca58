using Akka.Actor;
using Akka.Configuration;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Messages.Serialization;

namespace LuaActors.UnitTests;

/// <summary>Every message that may cross nodes goes through LuaActorsSerializer and round-trips.</summary>
public sealed class SerializationTests : IDisposable
{
    private static readonly VmInfo Info = new("vm1", "basic", VmState.Running, 123, "akka.tcp://sys@127.0.0.1:1", 2, 5000, 2_600_000, 1, "none");

    private static readonly VmSpec Spec = new("vm1", "xcpng", new Dictionary<string, string> { ["template"] = "t" }, new VmLimits(100, 64, 10), "x = 1");

    /// <summary>One sample of every message type; a new type without a sample fails the coverage test.</summary>
    private static readonly ILuaActorsMessage[] Samples =
    [
        new CreateVm(Spec),
        new VmCreated(Info),
        new GetVmInfo("vm1"),
        new ListVms(),
        new VmList([Info, Info with { VmId = "vm2", State = VmState.Failed, ProcessId = null }]),
        new RemoveVm("vm1"),
        new VmRemoved("vm1"),
        new ShutdownAll(),
        new AllVmsShutDown(3),
        new Execute("vm1", "return '\u00e9\\0'", ExecuteMode.Repl, 50, 8),
        new Execute("vm1", "return 1", Trace: new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k=v")),
        new Executed("vm1", 2, "[1,2.0]", "out\n", true),
        new RequestFailed("vm1", ErrorKind.Timeout, "late", "tb", "out", false),
        new ResetVm("vm1"),
        new VmWasReset("vm1"),
        new PingVm("vm1"),
        new VmPong("vm1", "Lua 5.4"),
        new VmRestarted("vm1", 1, "killed"),
        new VmGaveUp("vm1", 11, "crashed"),
        Spec,
        Info,
        Info with { Sessions = ["s-1", "s-2"] },
        new AttachSession("vm1", "s-1"),
        new SessionAttached("vm1", "s-1", ["s-1"]),
        new DetachSession("vm1", "s-1"),
        new SessionDetached("vm1", "s-1"),
        new SendSessionInput("vm1", "s-1", "x = 1"),
        new SessionInputEvaluated("vm1", "s-1", "1 +", "", null, ErrorKind.Incomplete, "eof", true),
        new SessionInputEvaluated("vm1", "s-2", "x", "out", "[1]", null, null, false),
        new VmStopped("vm1", "removed"),
        new InterruptSession("vm1", "s-1"),
        Info with { InboxCount = 3, Peers = ["vm2"], Topics = ["news"] },
        Spec with { Networking = true, Limits = new VmLimits(InboxCapacity: 5) },
        Spec with { Limits = new VmLimits(Storage: new VmStorageLimits(MaxValueBytes: 1000, MaxKeys: 5, MaxTotalBytes: 10_000)) },
        new DeliverMessage("vm1", "{\"k\":[1,2.5]}", "vm2", "news"),
        new DeliverMessage("vm1", "1"),
        new MessageAccepted("vm1", 4),
        new MessagePublished("news", "\"hi\"", "vm2"),
        new LinkPeer("vm1", "vm2"),
        new PeerLinked("vm1", "vm2"),
        new UnlinkPeer("vm1", "vm2"),
        new PeerUnlinked("vm1", "vm2"),
        new SubscribeTopic("vm1", "news"),
        new TopicSubscribed("vm1", "news"),
        new UnsubscribeTopic("vm1", "news"),
        new TopicUnsubscribed("vm1", "news"),
        new RequestFailed("vm1", ErrorKind.InboxFull, "inbox full: vm1 (5 messages)"),
        new ReceiveFromVm("vm1", 500),
        new RequestFailed("vm1", ErrorKind.Stopped, "moving", Undelivered: true),
        new ReceivedFromVm("vm1", "{\"connection\":1,\"data\":\"hi\"}"),
        new ReceivedFromVm("vm1", null),
        new StartServer("vm1", "127.0.0.1", 0),
        new ServerStarted("vm1", 20001),
        new VmStarted("vm1", "basic", 123, Created: true),
        new VmCrashed("vm1", "process killed by signal 9 (exit code 137)"),
        new VmHandedOff("vm1"),
        new GetNodeStats(),
        new NodeStats("akka.tcp://sys@127.0.0.1:1", 0.42, 2, [new VmStats("vm1", 1.5, 7, [1, 0, 6])]),
        new GetStorage("vm1", "user."),
        new StorageContents("vm1", new Dictionary<string, string> { ["user.1"] = "{\"name\":\"\u00e9\",\"n\":[1,2.5]}" }),
        new StorageChanged([new StorageChange("a", "1"), new StorageChange("b", null)]),
        new StorageSnapshot(new Dictionary<string, string> { ["a"] = "1.0", ["b"] = "{\"$type\":\"bytes\",\"base64\":\"/w==\"}" }),
    ];

    private readonly ActorSystem _system = ActorSystem.Create("serialization", LuaActorsConfig.Default);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Fact]
    public void Every_message_type_has_a_sample()
    {
        var sampled = Samples.Select(s => s.GetType()).ToHashSet();
        Assert.DoesNotContain(LuaActorsSerializer.MessageTypes.Values, t => !sampled.Contains(t));
    }

    [Fact]
    public void Every_public_record_of_the_protocol_is_a_bound_message_or_a_part_of_one()
    {
        var parts = new[] { typeof(VmLimits), typeof(VmStorageLimits), typeof(TraceContext), typeof(VmStats), typeof(StorageChange) };
        var unbound = typeof(ILuaActorsMessage).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace == "LuaActors.Messages")
            .Where(t => !typeof(ILuaActorsMessage).IsAssignableFrom(t) && !parts.Contains(t));
        Assert.Empty(unbound);
    }

    [Fact]
    public void Every_message_round_trips_through_the_bound_serializer()
    {
        foreach (var sample in Samples)
        {
            var serializer = _system.Serialization.FindSerializerFor(sample);
            Assert.IsType<LuaActorsSerializer>(serializer);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
            var bytes = serializer.ToBinary(sample);
            var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
            Assert.Equal(Json(sample), Json(back));
        }
    }

    [Fact]
    public void A_specs_storage_limits_survive_the_database_and_specs_stored_before_them_read_as_none()
    {
        var journal = new global::LuaActors.Persistence.SpecJournalSerializer((ExtendedActorSystem)_system);
        var limited = new global::LuaActors.Persistence.SpecPut(Spec with { Limits = new VmLimits(TimeoutMs: 5, Storage: new VmStorageLimits(MaxKeys: 7, MaxTotalBytes: 4096)) });
        var back = (global::LuaActors.Persistence.SpecPut)journal.FromBinary(journal.ToBinary(limited), journal.Manifest(limited));
        Assert.Equal(new VmStorageLimits(MaxKeys: 7, MaxTotalBytes: 4096), back.Spec.Limits.Storage);

        // An event written before VmLimits had Storage.
        var old = """{"Spec":{"VmId":"vm1","Type":"basic","Config":{},"Limits":{"TimeoutMs":5,"MemoryMb":null,"OutputCapBytes":null,"InboxCapacity":null},"InitScript":null,"Networking":false}}"""u8.ToArray();
        var read = (global::LuaActors.Persistence.SpecPut)journal.FromBinary(old, nameof(global::LuaActors.Persistence.SpecPut));
        Assert.Equal(new VmLimits(TimeoutMs: 5), read.Spec.Limits);
        Assert.Null(read.Spec.Limits.Storage);
    }

    [Fact]
    public void Unknown_manifests_are_refused()
    {
        var serializer = (LuaActorsSerializer)_system.Serialization.FindSerializerForType(typeof(Execute));
        Assert.ThrowsAny<Exception>(() => serializer.FromBinary("{}"u8.ToArray(), "NoSuchMessage"));
    }

    private static string Json(object value) =>
        System.Text.Json.JsonSerializer.Serialize(value, value.GetType(), new System.Text.Json.JsonSerializerOptions());
}
