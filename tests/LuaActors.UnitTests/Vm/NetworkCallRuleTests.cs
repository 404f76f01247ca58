using System.Net;
using System.Text;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Protocol;
using LuaActors.UnitTests.Protocol;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The network rule for a VM's net-* calls: which are allowed, and what the VM hears.</summary>
public sealed class NetworkCallRuleTests
{
    private static readonly NetworkingSettings Net = new(
        [IPAddress.Loopback], 20000, 20010, [new ConnectEntry(IPAddress.Parse("10.0.0.0"), 8, 443, 443)], 16);

    private readonly NetworkCallRule _rule = new(Net);

    private static string Answer(HostFrame? frame)
    {
        Assert.NotNull(frame);
        var (op, id, payload) = WireText.Split(frame.Value.Span);
        Assert.Equal(FrameOp.Answer, op);
        return $"{id} {Encoding.UTF8.GetString(payload)}";
    }

    private NetworkCallDecision Decide(string op, string name, bool networkingOn = true) =>
        _rule.Decide(new MessageCall(3, op, name, ""), networkingOn);

    [Fact]
    public void Only_net_ops_are_the_rules()
    {
        Assert.True(NetworkCallRule.Covers(new MessageCall(1, "net-listen", "", "")));
        Assert.False(NetworkCallRule.Covers(new MessageCall(1, "send", "", "")));
        Assert.False(NetworkCallRule.Covers(new MessageCall(1, "storage-get", "", "")));
    }

    [Fact]
    public void A_listen_on_an_allowed_address_and_port_goes_to_the_registry_others_are_refused()
    {
        var listen = Decide("net-listen", "127.0.0.1 20005");
        Assert.Equal((NetworkAction.Listen, null, IPAddress.Loopback, 20005), (listen.Action, listen.Answer, listen.Address, listen.Port));
        Assert.Equal("3 error\nlistening on 127.0.0.1:30000 is not allowed by luaactors.vm.networking", Answer(Decide("net-listen", "127.0.0.1 30000").Answer));
        Assert.Equal("3 error\nlistening on 127.0.0.2:20005 is not allowed by luaactors.vm.networking", Answer(Decide("net-listen", "127.0.0.2 20005").Answer));
    }

    [Fact]
    public void An_unlisten_leaves_the_registry_and_is_answered_at_once()
    {
        var unlisten = Decide("net-unlisten", "127.0.0.1 20005");
        Assert.Equal((NetworkAction.Unlisten, IPAddress.Loopback, 20005), (unlisten.Action, unlisten.Address, unlisten.Port));
        Assert.Equal("3 ok\n", Answer(unlisten.Answer));
    }

    [Fact]
    public void A_connect_to_a_listed_endpoint_is_allowed_at_once_any_other_is_checked_with_the_registry()
    {
        var listed = Decide("net-connect", "10.1.2.3 443");
        Assert.Equal((NetworkAction.Answer, "3 ok\n"), (listed.Action, Answer(listed.Answer)));
        var other = Decide("net-connect", "10.1.2.3 80");
        Assert.Equal((NetworkAction.CheckConnect, null, 80), (other.Action, other.Answer, other.Port));

        Assert.Equal("3 ok\n", Answer(NetworkCallRule.Connect(3, IPAddress.Loopback, 80, listening: true)));
        Assert.Equal(
            "3 error\nconnection not allowed: 127.0.0.1:80 is neither a listener a VM of this cluster opened nor listed in luaactors.vm.networking.connect",
            Answer(NetworkCallRule.Connect(3, IPAddress.Loopback, 80, listening: false)));
        Assert.Equal("3 error\nconnection not checked: the listener registry failed: down",
            Answer(NetworkCallRule.ConnectUnchecked(3, new AggregateException(new InvalidOperationException("down")))));
    }

    [Fact]
    public void Without_networking_or_with_a_malformed_endpoint_or_op_every_call_is_refused()
    {
        Assert.Equal("3 error\nbad networking call 'net-listen' (127.0.0.1 20005)", Answer(Decide("net-listen", "127.0.0.1 20005", networkingOn: false).Answer));
        Assert.Equal("3 error\nbad networking call 'net-connect' (nowhere)", Answer(Decide("net-connect", "nowhere").Answer));
        Assert.Equal("3 error\nunknown networking call 'net-bind'", Answer(Decide("net-bind", "127.0.0.1 20005").Answer));
    }

    [Fact]
    public void The_registrys_answer_to_a_listen_is_passed_on()
    {
        Assert.Equal("3 ok\n", Answer(NetworkCallRule.Listened(3, null)));
        Assert.Equal("3 error\nthe listener registry failed: down", Answer(NetworkCallRule.Listened(3, "down")));
    }

    [Theory]
    [InlineData(false, "127.0.0.1", 80, "networking is off for this VM: create it with VmOptions.Networking = true")]
    [InlineData(true, "127.0.0.1", 65536, "StartServer needs a host and a port 0-65535")]
    [InlineData(true, "", 80, "StartServer needs a host and a port 0-65535")]
    [InlineData(true, "127.0.0.1", 0, null)]
    public void StartServer_needs_networking_a_host_and_a_port(bool networkingOn, string host, int port, string? problem) =>
        Assert.Equal(problem, NetworkCallRule.StartServerProblem(networkingOn, new StartServer("vm1", host, port)));
}
