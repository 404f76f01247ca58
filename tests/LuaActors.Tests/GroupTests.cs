using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>VM groups: broadcast with per-VM errors, map in input order, removal.</summary>
public sealed class GroupTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    [Fact]
    public async Task Broadcast_reports_every_vm_even_when_one_fails()
    {
        var group = ManagerFixture.NewId("workers");
        var vms = await fixture.Manager.CreateGroupAsync(group, 3, new VmOptions { InitScript = "n = 10" });
        Assert.Equal([$"{group}-1", $"{group}-2", $"{group}-3"], vms.Select(v => v.Id));
        await vms[1].ExecuteAsync("broken = true");

        var results = await fixture.Manager.BroadcastAsync(group, "if broken then error('boom') end return n + 1");
        Assert.Equal(3, results.Count);
        Assert.Equal(11, results[0].Result!.Get<long>());
        Assert.Equal(ErrorKind.Runtime, results[1].Error!.Kind);
        Assert.Contains("boom", results[1].Error!.Message);
        Assert.Equal(11, results[2].Result!.Get<long>());

        Assert.Equal(3, await fixture.Manager.RemoveGroupAsync(group));
        Assert.Empty(await fixture.Manager.GroupMembersAsync(group));
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.BroadcastAsync(group, "return 1"));
    }

    [Fact]
    public async Task Map_spreads_inputs_and_keeps_their_order()
    {
        var group = ManagerFixture.NewId("mappers");
        await fixture.Manager.CreateGroupAsync(group, 3);
        var inputs = Enumerable.Range(1, 30).ToList();
        var results = await fixture.Manager.MapAsync(group, "local x = ... return x * x, vm_seen", inputs);
        Assert.Equal(inputs.Select(i => (long)i * i).ToArray(), results.Select(r => r.Result!.Get<long>()).ToArray());
        Assert.Equal(3, results.Select(r => r.VmId).Distinct().Count());

        // Inputs of every JSON shape arrive as the matching Lua values.
        var shapes = await fixture.Manager.MapAsync<object?>(group, "local v = ... return v", [1.5, "é\"\n", true, null, new[] { 1, 2 }, new Dictionary<string, int> { ["k"] = 3 }]);
        Assert.Equal(["[1.5]", "[\"é\\\"\\n\"]", "[true]", "[null]", "[[1,2]]", "[{\"k\":3}]"], shapes.Select(s => s.Result!.ValuesJson));
        await fixture.Manager.RemoveGroupAsync(group);
    }

    [Fact]
    public async Task Map_converts_inputs_like_send_so_whole_floats_stay_floats()
    {
        var group = ManagerFixture.NewId("typed");
        await fixture.Manager.CreateGroupAsync(group, 2);
        var types = await fixture.Manager.MapAsync<object?>(group, "local x = ... return math.type(x) == 'float', math.type(x)",
            [2.0, 2.5f, 3m, double.NaN, double.NegativeInfinity, 2, long.MaxValue]);
        Assert.Equal(["[true,\"float\"]", "[true,\"float\"]", "[true,\"float\"]", "[true,\"float\"]", "[true,\"float\"]",
            "[false,\"integer\"]", "[false,\"integer\"]"], types.Select(r => r.Result!.ValuesJson));

        // Floats inside sequences too; bytes as bytes; integer dictionary keys as integer keys.
        var shapes = await fixture.Manager.MapAsync<object?>(group, """
            local input = ...
            local v, kind = input[1], input[2]
            if kind == 'floats' then return math.type(v[1]), math.type(v[2]) end
            if kind == 'bytes' then return #v, v:byte(1, -1) end
            return #v, v[1], v[2], v["1"]
            """, [
            new object[] { new[] { 2.0, 0.5 }, "floats" },
            new object[] { new byte[] { 0, 255, 65 }, "bytes" },
            new object[] { new Dictionary<int, string> { [1] = "a", [2] = "b" }, "keys" },
        ]);
        Assert.Equal(["[\"float\",\"float\"]", "[3,0,255,65]", "[2,\"a\",\"b\",null]"], shapes.Select(r => r.Result!.ValuesJson));
        await fixture.Manager.RemoveGroupAsync(group);
    }

    [Fact]
    public async Task A_group_that_cannot_be_created_leaves_nothing_behind()
    {
        var group = ManagerFixture.NewId("doomed");
        await fixture.Manager.CreateVmAsync($"{group}-2");
        await Assert.ThrowsAsync<VmAlreadyExistsException>(() => fixture.Manager.CreateGroupAsync(group, 3));
        Assert.Equal([$"{group}-2"], await fixture.Manager.GroupMembersAsync(group));
    }
}
