using Akka.Actor;

namespace LuaActors.UnitTests.Vm;

/// <summary>A clock the test moves by hand (Stopwatch-like timestamps in ticks).</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _now = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _now;

    public void Advance(TimeSpan by) => _now += by.Ticks;
}

/// <summary>An actor ref with no actor behind it: it keeps what it is told, in order.</summary>
internal sealed class RecordingRef(string name) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(Address.AllSystems) / name;

    public override IActorRefProvider Provider => throw new NotSupportedException("no actor system here");

    public List<object> Received { get; } = [];

    protected override void TellInternal(object message, IActorRef sender) => Received.Add(message);
}
