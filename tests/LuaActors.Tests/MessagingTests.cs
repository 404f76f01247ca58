using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>Messaging between VMs in one actor system: inboxes, waits, topics, peers, and their errors.</summary>
public sealed class MessagingTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private VmManager Manager => fixture.Manager;

    private Task<string> NewVmAsync(string prefix, VmOptions? options = null) => fixture.NewVmAsync(prefix, options);

    [Fact]
    public async Task A_vm_receives_what_another_vm_sends_with_the_sender()
    {
        var alice = await NewVmAsync("alice");
        var bob = await NewVmAsync("bob");

        var receiving = Manager.ExecuteAsync(bob, "local v, from, topic = vm.receive(15) return v.greeting, v.n, from, topic, vm.id()");
        var sent = await Manager.ExecuteAsync(alice, $"return vm.send('{bob}', {{ greeting = 'hi', n = 3 }})");
        Assert.Equal("[true]", sent.ValuesJson);
        Assert.Equal($"[\"hi\",3,\"{alice}\",null,\"{bob}\"]", (await receiving).ValuesJson);

        // Messages queue in the inbox in order until the VM asks for them; none are lost.
        await Manager.ExecuteAsync(alice, $"for i = 1, 5 do vm.send('{bob}', i) end");
        Assert.Equal(5, (await Manager.GetVmInfoAsync(bob)).InboxCount);
        var drained = await Manager.ExecuteAsync(bob, "local t = {} for i = 1, 5 do t[i] = vm.receive(0) end return t, vm.receive(0)");
        Assert.Equal("[[1,2,3,4,5],null]", drained.ValuesJson);
        Assert.Equal(0, (await Manager.GetVmInfoAsync(bob)).InboxCount);
    }

    [Fact]
    public async Task Receive_times_out_with_nil_and_a_late_message_still_arrives()
    {
        var vm = await NewVmAsync("lonely");
        var result = await Manager.ExecuteAsync(vm, "local v = vm.receive(0.2) return v == nil, select('#', vm.receive(0))");
        Assert.Equal("[true,1]", result.ValuesJson);

        Assert.Equal(1, await Manager.SendAsync(vm, "late"));
        Assert.Equal("[\"late\"]", (await Manager.ExecuteAsync(vm, "return (vm.receive(5))")).ValuesJson);
    }

    [Fact]
    public async Task Csharp_values_arrive_as_the_matching_lua_values()
    {
        var vm = await NewVmAsync("typed");
        await Manager.SendAsync(vm, new Dictionary<string, object?>
        {
            ["i"] = 42L,
            ["f"] = 2.0,
            ["big"] = long.MaxValue,
            ["nan"] = double.NaN,
            ["s"] = "é\n\"",
            ["bytes"] = new byte[] { 0, 255, 10 },
            ["list"] = new[] { 1, 2, 3 },
            ["yes"] = true,
        });
        var result = await Manager.ExecuteAsync(vm, """
            local v, from = vm.receive(5)
            return math.type(v.i), v.i, math.type(v.f), v.big == math.maxinteger, v.nan ~= v.nan, v.s,
                   #v.bytes, v.bytes:byte(2), #v.list, v.list[3], v.yes, from
            """);
        Assert.Equal("[\"integer\",42,\"float\",true,true,\"é\\n\\\"\",3,255,3,3,true,null]", result.ValuesJson);
    }

    [Fact]
    public async Task Unknown_targets_fail_at_the_sender()
    {
        var vm = await NewVmAsync("sender");
        var error = await Assert.ThrowsAsync<LuaException>(() => Manager.ExecuteAsync(vm, "vm.send('no-such-vm-here', 1)"));
        Assert.Equal(ErrorKind.Runtime, error.Kind);
        Assert.Contains("unknown target 'no-such-vm-here'", error.Message);
        await Assert.ThrowsAsync<VmNotFoundException>(() => Manager.SendAsync("no-such-vm-here", 1));

        // The error is an ordinary Lua error: pcall catches it and the VM goes on.
        var caught = await Manager.ExecuteAsync(vm, "local ok, e = pcall(vm.send, 'no-such-vm-here', 1) return ok, e");
        Assert.Contains("unknown target", caught.ValuesJson);
    }

    [Fact]
    public async Task A_value_over_the_message_size_limit_is_refused_at_the_sender()
    {
        var target = await NewVmAsync("big-target");
        var sender = await NewVmAsync("big-sender");
        await Manager.ExecuteAsync(sender, "big = string.rep('x', 4 * 1024 * 1024)");
        foreach (var call in new[] { $"vm.send('{target}', big)", "vm.publish('big-news', big)", "vm.send('$host', big)" })
        {
            var error = await Assert.ThrowsAsync<LuaException>(() => Manager.ExecuteAsync(sender, call));
            Assert.Contains("too large", error.Message);
            Assert.Contains("max-message-size", error.Message);
        }

        var huge = new string('x', 4 << 20);
        await Assert.ThrowsAsync<TooLargeException>(() => Manager.PublishAsync("big-news", huge));
        await Assert.ThrowsAsync<TooLargeException>(() => Manager.SendAsync(target, huge));
        Assert.Equal(0, (await Manager.GetVmInfoAsync(target)).InboxCount);
        // The sender keeps its state: only the message was refused.
        Assert.Equal("[4194304]", (await Manager.ExecuteAsync(sender, "return #big")).ValuesJson);
    }

    [Fact]
    public async Task A_full_inbox_refuses_more_until_the_vm_takes_some()
    {
        var full = await NewVmAsync("full", new VmOptions { Limits = new VmLimits(InboxCapacity: 2) });
        var sender = await NewVmAsync("pusher");
        await Manager.SendAsync(full, 1);
        await Manager.SendAsync(full, 2);
        var refused = await Assert.ThrowsAsync<VmInboxFullException>(() => Manager.SendAsync(full, 3));
        Assert.Equal($"inbox full: {full} (2 messages)", refused.Message);

        var fromLua = await Assert.ThrowsAsync<LuaException>(() => Manager.ExecuteAsync(sender, $"vm.send('{full}', 3)"));
        Assert.Contains($"inbox full: {full} (2 messages)", fromLua.Message);
        Assert.Equal(2, (await Manager.GetVmInfoAsync(full)).InboxCount);

        Assert.Equal("[1]", (await Manager.ExecuteAsync(full, "return (vm.receive(0))")).ValuesJson);
        await Manager.ExecuteAsync(sender, $"vm.send('{full}', 3)");
        Assert.Equal("[2,3]", (await Manager.ExecuteAsync(full, "return (vm.receive(0)), (vm.receive(0))")).ValuesJson);

        await Assert.ThrowsAsync<InvalidVmSpecException>(() =>
            Manager.CreateVmAsync(ManagerFixture.NewId("bad"), new VmOptions { Limits = new VmLimits(InboxCapacity: 0) }));
    }

    [Fact]
    public async Task Topics_reach_every_subscriber_until_it_unsubscribes()
    {
        var topic = ManagerFixture.NewId("news");
        var first = await NewVmAsync("reader");
        var second = await NewVmAsync("reader");
        var publisher = await NewVmAsync("publisher");
        Assert.Equal("[true]", (await Manager.ExecuteAsync(first, $"return vm.subscribe('{topic}')")).ValuesJson);
        await Manager.SubscribeAsync(second, topic);
        Assert.Equal([topic], (await Manager.GetVmInfoAsync(second)).Topics);

        await Manager.ExecuteAsync(publisher, $"vm.publish('{topic}', {{ headline = 'lua 5.4' }})");
        foreach (var reader in new[] { first, second })
        {
            var got = await Manager.ExecuteAsync(reader, "local v, from, topic = vm.receive(10) return v.headline, from, topic");
            Assert.Equal($"[\"lua 5.4\",\"{publisher}\",\"{topic}\"]", got.ValuesJson);
        }

        // From C#: no sender.
        await Manager.PublishAsync(topic, 7);
        Assert.Equal($"[7,null,\"{topic}\"]", (await Manager.ExecuteAsync(first, "return vm.receive(10)")).ValuesJson);
        Assert.Equal($"[7,null,\"{topic}\"]", (await Manager.ExecuteAsync(second, "return vm.receive(10)")).ValuesJson);

        await Manager.ExecuteAsync(first, $"vm.unsubscribe('{topic}')");
        await Manager.PublishAsync(topic, "after");
        Assert.Equal("[\"after\"]", (await Manager.ExecuteAsync(second, "return (vm.receive(10))")).ValuesJson);
        Assert.Equal("[null]", (await Manager.ExecuteAsync(first, "return (vm.receive(0.3))")).ValuesJson);
        Assert.Empty((await Manager.GetVmInfoAsync(first)).Topics!);
    }

    [Fact]
    public async Task Broadcast_reaches_every_linked_peer()
    {
        var hub = await NewVmAsync("hub");
        var left = await NewVmAsync("left");
        var right = await NewVmAsync("right");
        await Manager.LinkAsync(hub, left);
        await Manager.LinkAsync(hub, right);

        var peers = await Manager.ExecuteAsync(hub, "return vm.peers()");
        Assert.Equal(new[] { left, right }.Order(StringComparer.Ordinal), peers.Get<string[]>()!);
        Assert.Equal($"[[\"{hub}\"]]", (await Manager.ExecuteAsync(left, "return vm.peers()")).ValuesJson);

        Assert.Equal("[2]", (await Manager.ExecuteAsync(hub, "return vm.broadcast('ping')")).ValuesJson);
        foreach (var peer in new[] { left, right })
        {
            Assert.Equal($"[\"ping\",\"{hub}\",null]", (await Manager.ExecuteAsync(peer, "return vm.receive(10)")).ValuesJson);
        }

        // P2P both ways: a peer answers the hub the same way.
        await Manager.ExecuteAsync(left, "vm.broadcast('pong')");
        Assert.Equal($"[\"pong\",\"{left}\",null]", (await Manager.ExecuteAsync(hub, "return vm.receive(10)")).ValuesJson);

        await Manager.UnlinkAsync(hub, right);
        Assert.Equal($"[[\"{left}\"]]", (await Manager.ExecuteAsync(hub, "return vm.peers()")).ValuesJson);

        // A link to a VM that does not exist is refused and leaves no half link behind.
        await Assert.ThrowsAsync<VmNotFoundException>(() => Manager.LinkAsync(hub, "no-such-peer"));
        Assert.Equal([left], (await Manager.GetVmInfoAsync(hub)).Peers);

        // A broadcast that a peer cannot take says so; the others still get it.
        await Manager.RemoveVmAsync(left);
        await Manager.LinkAsync(hub, right);
        var failed = await Assert.ThrowsAsync<LuaException>(() => Manager.ExecuteAsync(hub, "vm.broadcast('again')"));
        Assert.Contains($"delivered to 1 of 2 peers; unknown target '{left}'", failed.Message);
        Assert.Equal("[\"again\"]", (await Manager.ExecuteAsync(right, "return (vm.receive(10))")).ValuesJson);
    }

    [Fact]
    public async Task The_inbox_survives_a_crash_and_a_waiting_receive_can_be_interrupted()
    {
        var vm = await NewVmAsync("sturdy");
        await Manager.SendAsync(vm, "kept");
        var pid = (await Manager.GetVmInfoAsync(vm)).ProcessId!.Value;
        LuaProcesses.Kill9(pid);
        await Eventually.TrueAsync(async () =>
            await Manager.GetVmInfoAsync(vm) is { State: VmState.Running } info && info.ProcessId != pid, Within, "the VM restarted");
        Assert.Equal("[\"kept\"]", (await Manager.ExecuteAsync(vm, "return (vm.receive(5))")).ValuesJson);

        // A receive with no timeout waits without end; an interrupt ends it and the VM keeps its state.
        await using var session = await Manager.AttachAsync(vm);
        await session.SendInputAsync("x = 1");
        Assert.Null((await session.NextOwnInputAsync("x = 1", Within)).Error);
        await session.SendInputAsync("vm.receive()");
        await Eventually.TrueAsync(async () => (await Manager.GetVmInfoAsync(vm)).PendingRequests == 1, Within, "the receive is waiting");
        await session.InterruptAsync();
        Assert.Contains("interrupted", await session.ReadOutputAsync(Within));
        await Manager.SendAsync(vm, "next");
        Assert.Equal("[\"next\",1]", (await Manager.ExecuteAsync(vm, "return (vm.receive(5)), x")).ValuesJson);
    }

    [Fact]
    public async Task Messaging_calls_with_bad_arguments_fail_clearly()
    {
        var vm = await NewVmAsync("strict");
        var error = await Assert.ThrowsAsync<LuaException>(() => Manager.ExecuteAsync(vm, "vm.send(nil, 1)"));
        Assert.Equal(ErrorKind.Runtime, error.Kind);
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => Manager.LinkAsync(vm, vm));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => Manager.SubscribeAsync(vm, ""));
        await Assert.ThrowsAsync<ArgumentException>(() => Manager.PublishAsync("", 1));
    }
}
