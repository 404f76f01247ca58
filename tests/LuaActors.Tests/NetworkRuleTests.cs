using System.Net;
using System.Net.Sockets;
using System.Text;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The network rule of a VM with networking (docs/guarantees.md): it connects only to listeners
/// VMs opened and to operator-listed endpoints, binds only allowed addresses and ports, and an
/// address is checked and dialled as one parsed value. Real lua5.4 processes, real sockets.
/// </summary>
public sealed class NetworkRuleTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private VmManager Manager => fixture.Manager;

    private Task<string> NewVmAsync(string prefix) => fixture.NewVmAsync(prefix, new VmOptions { Networking = true });

    private static string Refused(string endpoint) =>
        $"connection not allowed: {endpoint} is neither a listener a VM of this cluster opened nor listed in luaactors.vm.networking.connect";

    /// <summary>What socket.connect(host, port) returned in the VM: "connected", or the error.</summary>
    private async Task<string> ConnectAsync(string vm, string host, int port) =>
        (await Manager.ExecuteAsync<string>(vm, $"""
            local c, err = socket.connect({Lua(host)}, {port})
            if c then c:close() return "connected" end
            return err
            """))!;

    private static string Lua(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>A TcpListener on 127.0.0.1 that no VM opened, on a port inside listen-ports (20000-29999).</summary>
    private static TcpListener ListenInsideVmPorts()
    {
        for (var port = 29999; port >= 20000; port--)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return listener;
            }
            catch (SocketException)
            {
                listener.Dispose();
            }
        }

        throw new InvalidOperationException("no free port in 20000-29999");
    }

    [Fact]
    public async Task A_networking_vm_cannot_reach_a_local_listener_no_vm_opened_even_on_a_vm_port()
    {
        using var outside = new TcpListener(IPAddress.Loopback, 0);
        outside.Start();
        using var inside = ListenInsideVmPorts();
        var vm = await NewVmAsync("confined");
        var outsidePort = ((IPEndPoint)outside.LocalEndpoint).Port;
        var insidePort = ((IPEndPoint)inside.LocalEndpoint).Port;

        Assert.Equal(Refused($"127.0.0.1:{outsidePort}"), await ConnectAsync(vm, "127.0.0.1", outsidePort));
        Assert.Equal(Refused($"127.0.0.1:{insidePort}"), await ConnectAsync(vm, "127.0.0.1", insidePort));
        // A name resolves once, to the address that is checked.
        Assert.Equal(Refused($"127.0.0.1:{insidePort}"), await ConnectAsync(vm, "localhost", insidePort));
        Assert.Equal(Refused($"[::1]:{insidePort}"), await ConnectAsync(vm, "::1", insidePort));
        Assert.False(outside.Pending() || inside.Pending(), "nothing reached the listeners");
    }

    [Fact]
    public async Task A_networking_vm_reaches_another_vms_listener_until_it_closes()
    {
        var server = await NewVmAsync("listener");
        var client = await NewVmAsync("dialer");
        var port = await Manager.ExecuteAsync<int>(server, """
            srv = assert(socket.bind("127.0.0.1", 0))
            local _, port = srv:getsockname()
            return tonumber(port)
            """);
        Assert.InRange(port, 20000, 29999);
        Assert.Equal("connected", await ConnectAsync(client, "127.0.0.1", port));

        // The VM reports the close before it answers the request that closed it.
        await Manager.ExecuteAsync(server, "srv:close()");
        Assert.Equal(Refused($"127.0.0.1:{port}"), await ConnectAsync(client, "127.0.0.1", port));
    }

    [Fact]
    public async Task An_ipv6_listener_is_reached_by_any_spelling_of_its_address()
    {
        var server = await NewVmAsync("v6-listener");
        var client = await NewVmAsync("v6-dialer");
        var port = await Manager.StartServerAsync(server, 0, "::1");
        Assert.Equal("connected", await ConnectAsync(client, "::1", port));
        Assert.Equal("connected", await ConnectAsync(client, "0:0:0:0:0:0:0:1", port));
        Assert.Equal("connected", await ConnectAsync(client, "0000::0001", port));
        // The IPv4 loopback on that port is another endpoint, and nobody opened it.
        Assert.Equal(Refused($"127.0.0.1:{port}"), await ConnectAsync(client, "127.0.0.1", port));
    }

    [Fact]
    public async Task Every_socket_counts_against_max_sockets_until_it_is_closed()
    {
        await using var small = await ManagerFixture.StartAsync("luaactors.vm.networking.max-sockets = 2");
        await small.CreateVmAsync("two-sockets", new VmOptions { Networking = true });
        Assert.Equal("[true,true,null,\"too many sockets (limit 2)\",true]", (await small.ExecuteAsync("two-sockets", """
            a = socket.tcp()
            b = assert(socket.bind("127.0.0.1", 0))
            local c, err = socket.tcp()
            a:close()
            local d = socket.tcp()
            return a ~= nil, b ~= nil, c, err, d ~= nil
            """)).ValuesJson);
    }

    [Fact]
    public async Task A_listener_leaves_the_registry_when_its_vm_is_removed_or_reset()
    {
        var client = await NewVmAsync("dialer");
        foreach (var ending in new[] { "remove", "reset" })
        {
            var server = await NewVmAsync("leaving");
            var port = await Manager.StartServerAsync(server, 0);
            Assert.Equal("connected", await ConnectAsync(client, "127.0.0.1", port));
            if (ending == "remove")
            {
                await Manager.RemoveVmAsync(server);
            }
            else
            {
                await Manager.ResetVmAsync(server);
            }

            Assert.Equal(Refused($"127.0.0.1:{port}"), await ConnectAsync(client, "127.0.0.1", port));
        }
    }

    [Fact]
    public async Task Ambiguous_spellings_of_an_address_are_refused_for_connect_and_bind()
    {
        var server = await NewVmAsync("target");
        var port = await Manager.StartServerAsync(server, 0);
        var vm = await NewVmAsync("speller");
        (string Host, string Error)[] cases =
        [
            ("127.0.0.010", "ambiguous address '127.0.0.010'"),
            ("127.1", "ambiguous address '127.1'"),
            ("0x7f.0.0.1", "ambiguous address '0x7f.0.0.1'"),
            ("2130706433", "ambiguous address '2130706433'"),
            ("127.0.0.1.", "bad host '127.0.0.1.'"),
            ("127.0.0.1 x", "bad host '127.0.0.1 x'"),
            ("::ffff:127.0.0.1", "IPv4-in-IPv6 spellings are refused"),
            ("::ffff:7f00:1", "IPv4-mapped addresses are refused"),
            ("::7f00:1", "IPv4-compatible addresses are refused"),
            ("fe80::1%lo", "zone ids are not supported"),
            ("::1:12345", "bad IPv6 address '::1:12345'"),
            ("1:2:3:4:5:6:7", "bad IPv6 address '1:2:3:4:5:6:7'"),
        ];
        foreach (var (host, error) in cases)
        {
            Assert.Contains(error, await ConnectAsync(vm, host, port));
            Assert.Contains(error, (await Manager.ExecuteAsync(vm, $"return socket.bind({Lua(host)}, 0)")).ValuesJson);
        }
    }

    [Fact]
    public async Task The_address_that_is_checked_is_the_address_that_is_dialled()
    {
        // 127.0.0.8 is a VM listener; "127.0.0.010" would be .8 to inet_aton (octal) and .10 to a
        // decimal check. It is refused, and the canonical spellings reach what they name.
        await using var wide = await ManagerFixture.StartAsync("""luaactors.vm.networking.bind-addresses = "127.0.0.1,127.0.0.8" """);
        await wide.CreateVmAsync("octal-server", new VmOptions { Networking = true });
        await wide.CreateVmAsync("octal-client", new VmOptions { Networking = true });
        var port = await wide.StartServerAsync("octal-server", 0, "127.0.0.8");
        string Connect(string host) => $"local c, e = socket.connect('{host}', {port}) if c then local _, p = c:getpeername() c:close() return 'to ' .. _ end return e";
        Assert.Equal("to 127.0.0.8", await wide.ExecuteAsync<string>("octal-client", Connect("127.0.0.8")));
        Assert.StartsWith("ambiguous address '127.0.0.010'", await wide.ExecuteAsync<string>("octal-client", Connect("127.0.0.010")));
        Assert.Equal(Refused($"127.0.0.10:{port}"), await wide.ExecuteAsync<string>("octal-client", Connect("127.0.0.10")));
    }

    [Fact]
    public async Task Binding_outside_the_allowed_addresses_and_ports_is_refused()
    {
        var vm = await NewVmAsync("binder");
        Assert.Equal("[null,\"address not allowed for listening: 0.0.0.0 (luaactors.vm.networking.bind-addresses)\"]",
            (await Manager.ExecuteAsync(vm, "return socket.bind('*', 0)")).ValuesJson);
        Assert.Equal("[null,\"address not allowed for listening: 127.0.0.2 (luaactors.vm.networking.bind-addresses)\"]",
            (await Manager.ExecuteAsync(vm, "return socket.bind('127.0.0.2', 0)")).ValuesJson);
        Assert.Equal("[null,\"port not allowed for listening: 8080 (luaactors.vm.networking.listen-ports 20000-29999)\"]",
            (await Manager.ExecuteAsync(vm, "return socket.bind('127.0.0.1', 8080)")).ValuesJson);
        var failed = await Assert.ThrowsAsync<LuaException>(() => Manager.StartServerAsync(vm, 30000));
        Assert.Contains("port not allowed for listening: 30000", failed.Message);

        // Port 0 takes a free port of the range, on IPv6 too.
        var ports = await Manager.ExecuteAsync(vm, """
            local a = assert(socket.bind('127.0.0.1', 0))
            local b = assert(socket.bind('::1', 0))
            local _, pa = a:getsockname()
            local _, pb = b:getsockname()
            a:close() b:close()
            return tonumber(pa), tonumber(pb)
            """);
        Assert.All(ports.Values, p => Assert.InRange(p.GetInt32(), 20000, 29999));
    }

    [Fact]
    public async Task An_operator_listed_endpoint_is_reachable_and_only_on_its_ports()
    {
        using var service = new TcpListener(IPAddress.Loopback, 0);
        service.Start();
        var port = ((IPEndPoint)service.LocalEndpoint).Port;
        await using var listed = await ManagerFixture.StartAsync($"""luaactors.vm.networking.connect = "127.0.0.0/8:{port}" """);
        await listed.CreateVmAsync("listed-client", new VmOptions { Networking = true });

        var accepting = service.AcceptTcpClientAsync();
        var sending = listed.ExecuteAsync<string>("listed-client", $"""
            local c = assert(socket.connect("127.0.0.1", {port}))
            c:send("hello service\n")
            local reply = c:receive("*l")
            c:close()
            return reply
            """);
        using var accepted = await accepting;
        var stream = accepted.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.Equal("hello service", await reader.ReadLineAsync());
        await stream.WriteAsync(Encoding.ASCII.GetBytes("hello vm\n"));
        Assert.Equal("hello vm", await sending);

        Assert.StartsWith("connection not allowed: 127.0.0.1:" + (port + 1),
            await listed.ExecuteAsync<string>("listed-client", $"local c, e = socket.connect('127.0.0.1', {port + 1}) return e"));
    }

    [Fact]
    public async Task Binding_the_port_of_a_vm_just_killed_succeeds_at_once()
    {
        var first = await NewVmAsync("first-holder");
        var client = await NewVmAsync("peer");
        var port = await Manager.ExecuteAsync<int>(first, """
            local srv = assert(socket.bind("127.0.0.1", 0))
            vm.spawn(function()
              local c = assert(srv:accept())
              c:send("hi\n")
            end)
            local _, port = srv:getsockname()
            return tonumber(port)
            """);
        // A connection the killed VM had accepted: its end lingers in TIME_WAIT on the port.
        Assert.Equal("hi", await Manager.ExecuteAsync<string>(client, $"""
            conn = assert(socket.connect("127.0.0.1", {port}))
            return conn:receive("*l")
            """));
        var vm = Manager.GetVm(first);
        LuaProcesses.Kill9(await LuaProcesses.PidAsync(vm));
        Assert.Equal("[null,\"closed\",\"\"]", (await Manager.ExecuteAsync(client, "return conn:receive('*l')")).ValuesJson);

        var second = await NewVmAsync("second-holder");
        Assert.Equal(port, await Manager.ExecuteAsync<int>(second, $"""
            local srv = assert(socket.bind("127.0.0.1", {port}))
            local _, p = srv:getsockname()
            return tonumber(p)
            """));
    }

    [Fact]
    public async Task Receive_all_returns_the_whole_reply_every_time()
    {
        var server = await NewVmAsync("http-ish");
        var client = await NewVmAsync("fetcher");
        // An HTTP/1.0-like server: a request line, then a reply in two writes, then the close.
        var port = await Manager.ExecuteAsync<int>(server, """
            local srv = assert(socket.bind("127.0.0.1", 0))
            vm.spawn(function()
              while true do
                local c = assert(srv:accept())
                vm.spawn(function()
                  c:receive("*l")
                  c:send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                  coroutine.yield()
                  c:send(string.rep("body", 100))
                  c:close()
                end)
              end
            end)
            local _, port = srv:getsockname()
            return tonumber(port)
            """);
        var result = await Manager.ExecuteAsync<string>(client, $"""
            local want = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" .. string.rep("body", 100)
            for i = 1, 60 do
              local c = assert(socket.connect("127.0.0.1", {port}))
              c:send("GET / HTTP/1.0\r\n")
              local data, err, partial = c:receive("*a")
              c:close()
              if data ~= want then
                return string.format("exchange %d: %s, %s, %d bytes", i, tostring(data and #data), tostring(err), partial and #partial or -1)
              end
            end
            return "all 60 whole"
            """);
        Assert.Equal("all 60 whole", result);
    }

    [Fact]
    public async Task A_server_started_with_StartServerAsync_listens_again_on_its_port_after_kill_9()
    {
        var server = await NewVmAsync("restored");
        var client = await NewVmAsync("returning");
        var port = await Manager.StartServerAsync(server, 0);
        var vm = Manager.GetVm(server);
        var pid = await LuaProcesses.PidAsync(vm);

        LuaProcesses.Kill9(pid);
        await LuaProcesses.NewPidAsync(vm, pid);

        // The restart opened the listener again, on the same port, in the registry again.
        var connection = await Manager.ConnectToAsync(client, "127.0.0.1", port);
        Assert.Equal(1, await Manager.SendDataAsync(client, "after the kill", connection));
        var received = await Manager.ReceiveMessageAsync(server, Within);
        Assert.Equal("after the kill", received!.Data);

        // Stopped on purpose, it stays closed after the next restart.
        Assert.True(await Manager.StopServerAsync(server, port));
        Assert.Equal(new SocketMessage(0, "", "closed", port), await Manager.ReceiveMessageAsync(server, Within));
        pid = await LuaProcesses.PidAsync(vm);
        LuaProcesses.Kill9(pid);
        await LuaProcesses.NewPidAsync(vm, pid);
        Assert.Equal("[false]", (await Manager.ExecuteAsync(server, $"return luaactors_net ~= nil")).ValuesJson);
        Assert.StartsWith("connection not allowed", await ConnectAsync(client, "127.0.0.1", port));
    }

    [Fact]
    public async Task A_listener_that_cannot_be_opened_again_after_a_restart_is_reported_and_the_vm_runs_on()
    {
        // The init script takes the listener's port after a restart when its inbox says so (the
        // inbox outlives the process): the restore then finds the port taken.
        int port;
        using (var probe = ListenInsideVmPorts())
        {
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var server = await fixture.NewVmAsync("contested", new VmOptions
        {
            Networking = true,
            InitScript = $"if vm.receive(0) == 'hold' then held = assert(socket.bind('127.0.0.1', {port})) end",
        });
        Assert.Equal(port, await Manager.StartServerAsync(server, port));
        await Manager.SendAsync(server, "hold");
        var vm = Manager.GetVm(server);
        var pid = await LuaProcesses.PidAsync(vm);
        LuaProcesses.Kill9(pid);
        await LuaProcesses.NewPidAsync(vm, pid);

        var report = await Manager.ReceiveMessageAsync(server, Within);
        Assert.Equal(port, report!.Server);
        Assert.StartsWith("not restored after a restart: Runtime: ", report.Closed);
        Assert.Contains("address already in use", report.Closed);
        Assert.Equal("[true]", (await Manager.ExecuteAsync(server, "return held ~= nil")).ValuesJson);
    }
}

/// <summary>The escape the rule closes: a VM on a node dialling the node's own HTTP API and remoting port.</summary>
public sealed class NetworkRuleNodeTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    [Fact]
    public async Task A_networking_vm_cannot_reach_its_nodes_http_port_nor_its_remoting_port_but_reaches_a_vm_listener()
    {
        var manager = fixture.Node.Manager;
        var vm = await fixture.NewVmAsync("escaper", new { networking = true });
        var server = await fixture.NewVmAsync("node-listener", new { networking = true });
        var http = fixture.Url.Port;
        var remoting = fixture.Node.Address.Port!.Value;
        string Connect(int port) => $"local c, e = socket.connect('127.0.0.1', {port}) if c then c:close() return 'connected' end return e";

        Assert.StartsWith($"connection not allowed: 127.0.0.1:{http} ", await manager.ExecuteAsync<string>(vm, Connect(http)));
        Assert.StartsWith($"connection not allowed: 127.0.0.1:{remoting} ", await manager.ExecuteAsync<string>(vm, Connect(remoting)));

        // In a cluster the registry is replicated: a listener opened through the HTTP API is reachable.
        var port = await manager.StartServerAsync(server, 0);
        Assert.Equal("connected", await manager.ExecuteAsync<string>(vm, Connect(port)));
    }
}
