using Akka.Actor;
using Akka.Cluster;
using static Akka.Cluster.ClusterEvent;

namespace LuaActors.Host;

/// <summary>Prints every membership and reachability change, one readable line each.</summary>
internal sealed class ClusterEventLogger : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly TextWriter _output;

    public ClusterEventLogger(TextWriter output)
    {
        _output = output;
        Receive<MemberJoined>(e => Print("member joining", e.Member));
        Receive<MemberWeaklyUp>(e => Print("member weakly up", e.Member));
        Receive<MemberUp>(e => Print("member up", e.Member));
        Receive<MemberLeft>(e => Print("member leaving", e.Member));
        Receive<MemberExited>(e => Print("member exiting", e.Member));
        Receive<MemberDowned>(e => Print("member downed", e.Member));
        Receive<MemberRemoved>(e => Print($"member removed (was {ApiJson.Name(e.PreviousStatus)})", e.Member));
        Receive<UnreachableMember>(e => Print("member unreachable", e.Member));
        Receive<ReachableMember>(e => Print("member reachable again", e.Member));
        Receive<LeaderChanged>(e => Line($"leader {e.Leader?.ToString() ?? "(none)"}"));
        Receive<IClusterDomainEvent>(_ => { });
    }

    public static Props Props(TextWriter output) => Akka.Actor.Props.Create(() => new ClusterEventLogger(output));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, InitialStateAsEvents, typeof(IMemberEvent), typeof(IReachabilityEvent), typeof(LeaderChanged));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Print(string what, Member member) =>
        Line($"{what} {member.Address}{(member.Address.Equals(_cluster.SelfAddress) ? " (this node)" : "")}");

    private void Line(string text) => _output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {text}");
}
