using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>VMs with networking on: LuaSocket servers and clients on 127.0.0.1, and the C# helpers over them.</summary>
public sealed class SocketTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private VmManager Manager => fixture.Manager;

    private Task<string> NewVmAsync(string prefix, bool networking = true) =>
        fixture.NewVmAsync(prefix, new VmOptions { Networking = networking });

    [Fact]
    public async Task A_server_vm_and_a_client_vm_exchange_lines_and_keep_answering_requests()
    {
        var server = await NewVmAsync("server");
        var client = await NewVmAsync("client");
        var port = await Manager.StartServerAsync(server, 0);
        Assert.InRange(port, 1, 65535);
        var connection = await Manager.ConnectToAsync(client, "127.0.0.1", port);

        Assert.Equal(1, await Manager.SendDataAsync(client, "hello from client", connection));
        var atServer = await Manager.ReceiveMessageAsync(server, Within);
        Assert.Equal("hello from client", atServer!.Data);

        // Both VMs serve requests while their sockets are open and their reader tasks wait.
        Assert.Equal(2, await Manager.ExecuteAsync<long>(server, "return 1 + 1"));
        Assert.Equal(3, await Manager.ExecuteAsync<long>(client, "return 1 + 2"));

        Assert.Equal(1, await Manager.SendDataAsync(server, "echo: " + atServer.Data, atServer.Connection));
        Assert.Equal(new SocketMessage(connection, "echo: hello from client"), await Manager.ReceiveMessageAsync(client, Within));

        // Nothing more came: the wait ends empty.
        Assert.Null(await Manager.ReceiveMessageAsync(client, TimeSpan.FromMilliseconds(200)));

        // A reset closes the client's sockets; the server's reader sees the connection end.
        await Manager.ResetVmAsync(client);
        var closed = await Manager.ReceiveMessageAsync(server, Within);
        Assert.Equal(atServer.Connection, closed!.Connection);
        Assert.NotNull(closed.Closed);
    }

    [Fact]
    public async Task A_stopped_server_ends_its_accept_task_and_says_so()
    {
        // A long time limit: an accept loop spinning on its closed listener would hold the VM
        // for all of it, and never say that the listener ended.
        var server = await fixture.NewVmAsync("stopped", new VmOptions { Networking = true, Limits = new VmLimits(TimeoutMs: 120_000) });
        var port = await Manager.StartServerAsync(server, 0);
        var client = await NewVmAsync("early");
        var connection = await Manager.ConnectToAsync(client, "127.0.0.1", port);
        Assert.Equal(1, await Manager.SendDataAsync(client, "before the stop", connection));
        var accepted = (await Manager.ReceiveMessageAsync(server, Within))!;
        Assert.Equal("before the stop", accepted.Data);

        Assert.True(await Manager.StopServerAsync(server, port));
        Assert.Equal(new SocketMessage(0, "", "closed", port), await Manager.ReceiveMessageAsync(server, Within));
        Assert.Equal(2, await Manager.ExecuteAsync<long>(server, "return 1 + 1"));
        Assert.False(await Manager.StopServerAsync(server, port));

        // The connection it accepted stays open.
        Assert.Equal(1, await Manager.SendDataAsync(client, "after the stop", connection));
        Assert.Equal(new SocketMessage(accepted.Connection, "after the stop"), await Manager.ReceiveMessageAsync(server, Within));
    }

    [Fact]
    public async Task Lua_code_serves_and_connects_with_luasocket_cooperatively()
    {
        var server = await NewVmAsync("echo");
        var client = await NewVmAsync("caller");
        var port = await Manager.ExecuteAsync<long>(server, """
            local srv = assert(socket.bind("127.0.0.1", 0))
            vm.spawn(function()
              while true do
                local c = assert(srv:accept())
                vm.spawn(function()
                  for line in function() return c:receive("*l") end do c:send("echo:" .. line .. "\n") end
                  c:close()
                end)
              end
            end)
            local _, port = srv:getsockname()
            return tonumber(port)
            """);

        // The client's request waits on its socket; the server answers from background tasks
        // while it keeps serving requests of its own.
        var asking = Manager.ExecuteAsync(client, $"""
            local c = assert(socket.connect("127.0.0.1", {port}))
            c:send("one\n") local a = c:receive("*l")
            c:send("two\n") local b = c:receive("*l")
            c:close()
            return a, b
            """);
        Assert.Equal("[\"ok\"]", (await Manager.ExecuteAsync(server, "return 'ok'")).ValuesJson);
        Assert.Equal("[\"echo:one\",\"echo:two\"]", (await asking).ValuesJson);
    }

    [Fact]
    public async Task Sockets_are_refused_without_networking_and_outside_the_allowed_addresses()
    {
        var offline = await NewVmAsync("offline", networking: false);
        var off = await Assert.ThrowsAsync<InvalidVmRequestException>(() => Manager.StartServerAsync(offline, 0));
        Assert.Contains("networking is off for this VM", off.Message);
        Assert.Equal("[true]", (await Manager.ExecuteAsync(offline, "return socket == nil")).ValuesJson);

        var online = await NewVmAsync("online");
        Assert.Equal("[null,\"connection not allowed: 10.1.2.3:80 is neither a listener a VM of this cluster opened nor listed in luaactors.vm.networking.connect\"]",
            (await Manager.ExecuteAsync(online, "return socket.connect('10.1.2.3', 80)")).ValuesJson);
        var wildcard = await Assert.ThrowsAsync<LuaException>(() => Manager.StartServerAsync(online, 0, "0.0.0.0"));
        Assert.Contains("address not allowed for listening: 0.0.0.0", wildcard.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Manager.StartServerAsync(online, 70000));
        var noConnection = await Assert.ThrowsAsync<LuaException>(() => Manager.SendDataAsync(online, "x", 42));
        Assert.Contains("no open connection 42", noConnection.Message);
    }

    [Fact]
    public async Task A_vm_sends_any_value_to_its_host()
    {
        var vm = await NewVmAsync("reporter", networking: false);
        var waiting = Manager.ReceiveFromVmAsync(vm, Within);
        await Manager.ExecuteAsync(vm, "vm.send('$host', { score = 10, name = 'lua' })");
        var value = (await waiting)!.Value;
        Assert.Equal(10, value.GetProperty("score").GetInt64());
        Assert.Equal("lua", value.GetProperty("name").GetString());

        await Manager.ExecuteAsync(vm, "vm.send('$host', 1) vm.send('$host', 2)");
        Assert.Equal("1", (await Manager.ReceiveFromVmAsync(vm, Within))!.Value.GetRawText());
        Assert.Equal("2", (await Manager.ReceiveFromVmAsync(vm, TimeSpan.Zero))!.Value.GetRawText());
        Assert.Null(await Manager.ReceiveFromVmAsync(vm, TimeSpan.Zero));
    }
}
