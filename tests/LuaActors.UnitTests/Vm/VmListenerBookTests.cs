using System.Net;
using LuaActors.Networking;
using LuaActors.Vm;

namespace LuaActors.UnitTests.Vm;

/// <summary>The VM's listeners: what leaves the registry with its process, what a restart opens again.</summary>
public sealed class VmListenerBookTests
{
    private static VmListener Listener(int port) => new("vm1", "node", "host", IPAddress.Loopback, port);

    [Fact]
    public void A_process_end_forgets_its_registered_listeners_once()
    {
        var book = new VmListenerBook();
        book.Registering(Listener(1));
        book.Registering(Listener(2));
        book.Forget(Listener(2));
        Assert.Equal([Listener(1)], book.ForgetAll());
        Assert.Empty(book.ForgetAll());
    }

    [Fact]
    public void StartServer_listeners_are_kept_once_and_leave_when_closed_lost_or_reset()
    {
        var book = new VmListenerBook();
        book.ServerStarted("127.0.0.1", 8080);
        book.ServerStarted("127.0.0.1", 8080);
        book.ServerStarted("::1", 8081);
        book.ServerStarted("::1", 8082);
        Assert.Equal([("127.0.0.1", 8080), ("::1", 8081), ("::1", 8082)], book.Servers);

        book.Registering(Listener(8080));
        book.Closed(Listener(8080));
        book.ServerLost(8081);
        Assert.Equal([("::1", 8082)], book.Servers);
        Assert.Empty(book.Registered);
        book.ClearServers();
        Assert.Empty(book.Servers);
    }

    [Theory]
    [InlineData("127.0.0.1 80", "127.0.0.1:80")]
    [InlineData("::1 65535", "[::1]:65535")]
    public void A_networking_call_names_an_address_and_a_port(string name, string shown)
    {
        var (address, port) = VmListenerBook.ParseEndpoint(name)!.Value;
        Assert.Equal(shown, VmListenerBook.Show(address, port));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1 65536")]
    [InlineData("127.0.0.1 -1")]
    [InlineData("localhost 80")]
    [InlineData(" 80")]
    public void A_malformed_endpoint_is_refused(string name) => Assert.Null(VmListenerBook.ParseEndpoint(name));

    [Theory]
    [InlineData("[8080]", 8080)]
    [InlineData("[8080,\"x\"]", 8080)]
    [InlineData("[]", null)]
    [InlineData("{}", null)]
    public void The_bound_port_is_the_chunks_first_value(string values, int? port) =>
        Assert.Equal(port, VmListenerBook.BoundPort(values));
}
