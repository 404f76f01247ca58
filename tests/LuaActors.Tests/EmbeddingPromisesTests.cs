using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// What the embedding API promises a user migrating from the old library: long waits wait,
/// shutdown leaves no process, detach and dispose are immediate and idempotent, a disposed
/// manager fails fast, the VM handle carries the per-VM operations.
/// </summary>
public sealed class EmbeddingPromisesTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    // A bound on calls that must return at once (on the broken code they took 30-65 s): it
    // only turns a hang into a failure, it measures nothing.
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private VmManager Manager => fixture.Manager;

    [Fact]
    public async Task An_infinite_receive_waits_until_the_vm_sends()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("receive"));
        var receive = vm.ReceiveFromVmAsync(Timeout.InfiniteTimeSpan);
        // Until the VM sends, the wait goes on (it returned null at once before).
        Assert.False(receive.IsCompleted);
        await vm.ExecuteAsync("vm.send('$host', 42)");
        var value = await receive.WaitAsync(Wait);
        Assert.Equal(42, value!.Value.GetInt32());
    }

    [Fact]
    public async Task The_socket_receive_with_an_infinite_timeout_waits_too()
    {
        // The call: ReceiveMessageAsync(id, Timeout.InfiniteTimeSpan) returned null at once.
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("receive"));
        var receive = vm.ReceiveMessageAsync(Timeout.InfiniteTimeSpan);
        await vm.ExecuteAsync("vm.send('$host', 'hello')");
        Assert.Equal(new SocketMessage(0, "\"hello\""), await receive.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_very_long_receive_waits_too()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("receive"));
        var receive = vm.ReceiveFromVmAsync(TimeSpan.MaxValue - TimeSpan.FromDays(1));
        await vm.ExecuteAsync("vm.send('$host', 'late')");
        Assert.Equal("late", (await receive.WaitAsync(Wait))!.Value.GetString());
    }

    [Fact]
    public async Task Cancelling_an_infinite_receive_ends_it_and_loses_no_value()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("receive"));
        using var cancel = new CancellationTokenSource();
        var receive = vm.ReceiveFromVmAsync(Timeout.InfiniteTimeSpan, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Wait));

        // The cancelled call's wait may still be open in the VM: what it takes goes to the next call.
        await vm.ExecuteAsync("vm.send('$host', 1) vm.send('$host', 2)");
        Assert.Equal(1, (await vm.ReceiveFromVmAsync(Wait))!.Value.GetInt32());
        Assert.Equal(2, (await vm.ReceiveFromVmAsync(Wait))!.Value.GetInt32());
    }

    [Fact]
    public async Task A_negative_receive_wait_is_refused()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("receive"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => vm.ReceiveFromVmAsync(TimeSpan.FromSeconds(-2)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_all_leaves_no_process_not_even_a_spare(bool cluster)
    {
        // A type of its own whose processes carry a marker on their command line, so that only
        // this test's processes are counted (other tests run VMs in this process meanwhile).
        var marker = "shutdown_marker_" + Guid.NewGuid().ToString("N")[..8];
        var types = $$"""
            luaactors.vm-types.marked {
              backend = process
              executable = lua5.4
              arguments = ["-E", "-e", "{{marker}} = 1"]
              spare-processes = 1
            }
            """;
        // A one-node cluster: the sharded manager, whose VMs are entities.
        await using var nodes = cluster ? await TestCluster.StartAsync(1, types) : null;
        await using var local = cluster ? null : await ManagerFixture.StartAsync(types);
        var manager = nodes?.Nodes[0] ?? local!;
        await manager.CreateVmAsync("a", new VmOptions { Type = "marked" });
        await manager.CreateVmAsync("b", new VmOptions { Type = "marked" });
        // Two VMs and the spare started after the first VM took its process.
        await Eventually.TrueAsync(() => Marked(marker).Count == 3, Wait, "two VM processes and one spare");

        Assert.Equal(2, await manager.ShutdownAllAsync());
        await LuaProcesses.AssertGoneAsync(Marked(marker));
        Assert.Empty(Marked(marker));

        // The pool fills again with the next VM.
        await manager.CreateVmAsync("c", new VmOptions { Type = "marked" });
        await Eventually.TrueAsync(() => Marked(marker).Count == 2, Wait, "a VM process and a new spare");
    }

    [Fact]
    public async Task Detach_is_immediate_and_idempotent_and_input_after_it_fails()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("detach"));
        var session = await vm.AttachAsync();
        await session.SendInputAsync("x = 1");
        await session.DetachAsync().WaitAsync(NoHang);
        Assert.True(session.IsEnded);
        await session.DetachAsync().WaitAsync(NoHang);
        await session.DisposeAsync().AsTask().WaitAsync(NoHang);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => session.SendInputAsync("x = 2"));
        Assert.Contains("detached", refused.Message);
        Assert.Empty((await vm.GetInfoAsync()).Sessions ?? []);
        Assert.Equal(1, await vm.ExecuteAsync<long>("return x"));
    }

    [Fact]
    public async Task A_session_whose_vm_was_removed_refuses_input_and_detaches_at_once()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("detach"));
        await using var session = await vm.AttachAsync();
        await vm.RemoveAsync();
        await Eventually.TrueAsync(() => session.IsEnded, Wait, "the session ended with its VM");
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.SendInputAsync("x = 2"));
        await session.DetachAsync().WaitAsync(NoHang);
    }

    [Fact]
    public async Task A_disposed_manager_fails_fast_and_disposing_again_returns_at_once()
    {
        var manager = await ManagerFixture.StartAsync();
        var vm = await manager.CreateVmAsync("held");
        var session = await vm.AttachAsync();
        await manager.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => vm.ExecuteAsync("return 1").WaitAsync(NoHang));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => vm.GetInfoAsync().WaitAsync(NoHang));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => manager.CreateVmAsync("late").WaitAsync(NoHang));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => manager.AttachAsync("held").WaitAsync(NoHang));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.SendInputAsync("x = 1"));
        Assert.True(manager.IsDisposed);
        await manager.DisposeAsync().AsTask().WaitAsync(NoHang);
        await session.DisposeAsync().AsTask().WaitAsync(NoHang);
    }

    [Fact]
    public async Task The_handle_carries_the_per_vm_operations_like_the_old_library()
    {
        var vm1 = await Manager.CreateVmAsync(ManagerFixture.NewId("handle"));
        var vm2 = await Manager.CreateVmAsync(ManagerFixture.NewId("handle"));
        await vm1.LinkAsync(vm2);
        Assert.Equal($"[[\"{vm2.Id}\"]]", (await vm1.ExecuteAsync("return vm.peers()")).ValuesJson);
        await vm1.UnlinkAsync(vm2);

        await using var session = await vm1.AttachAsync();
        Assert.Equal(vm1.Id, session.VmId);

        var server = await Manager.CreateVmAsync(ManagerFixture.NewId("handle"), new VmOptions { Networking = true });
        var port = await server.StartServerAsync(0);
        Assert.InRange(port, 1, 65535);
        Assert.True(await server.StopServerAsync(port));
    }

    [Fact]
    public async Task A_result_prints_its_values_like_the_old_library()
    {
        var vm = await Manager.CreateVmAsync(ManagerFixture.NewId("print"));
        Assert.Equal("4.0", (await vm.ExecuteAsync("return math.sqrt(16)")).ToString());
        Assert.Equal("1\ttwo\t[3]", (await vm.ExecuteAsync("return 1, 'two', {3}")).ToString());
        Assert.Equal("", (await vm.ExecuteAsync("x = 1")).ToString());
    }

    /// <summary>Live processes whose command line carries <paramref name="marker"/>.</summary>
    private static List<int> Marked(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal) && LuaProcesses.IsAlive(pid))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }
}
