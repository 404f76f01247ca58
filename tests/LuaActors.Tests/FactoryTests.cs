using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>VM types from HOCON, the xcpng stub, and every way a create can be refused.</summary>
public sealed class FactoryTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    private static readonly Dictionary<string, string> XcpngConfig = new()
    {
        ["xcpng_host"] = "xcp.example.org",
        ["username"] = "root",
        ["password"] = "secret",
        ["template"] = "lua-template",
    };

    [Fact]
    public async Task Unknown_type_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() =>
            fixture.Manager.CreateVmAsync(ManagerFixture.NewId(), new VmOptions { Type = "docker" }));
        Assert.Equal(ErrorKind.UnknownType, error.Kind);
        Assert.Contains("'docker'", error.Message);
        Assert.Contains("basic", error.Message);
    }

    [Fact]
    public async Task Xcpng_is_a_listed_stub_that_cannot_run_code()
    {
        var id = ManagerFixture.NewId("xcp");
        var vm = await fixture.Manager.CreateVmAsync(id, new VmOptions { Type = "xcpng", Config = XcpngConfig });
        var info = await vm.GetInfoAsync();
        Assert.Equal("xcpng", info.Type);
        Assert.Equal(VmState.NotProvisioned, info.State);
        Assert.Null(info.ProcessId);
        var error = await Assert.ThrowsAsync<VmNotSupportedException>(() => vm.ExecuteAsync("return 1"));
        Assert.Contains("Phase", error.Message);
        Assert.Contains(await fixture.Manager.ListVmsAsync(), v => v.VmId == id && v.Type == "xcpng");
        await vm.RemoveAsync();
    }

    [Fact]
    public async Task Xcpng_config_is_validated_with_every_problem_named()
    {
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() => fixture.Manager.CreateVmAsync(
            ManagerFixture.NewId(),
            new VmOptions { Type = "xcpng", Config = new Dictionary<string, string> { ["xcpng_host"] = "not a host!", ["colour"] = "red" } }));
        Assert.Equal(ErrorKind.InvalidSpec, error.Kind);
        Assert.Contains("missing 'username'", error.Message);
        Assert.Contains("missing 'password'", error.Message);
        Assert.Contains("missing 'template'", error.Message);
        Assert.Contains("unknown key 'colour'", error.Message);
        Assert.Contains("not a host", error.Message);
    }

    [Fact]
    public async Task Duplicate_id_is_refused_and_the_first_vm_is_untouched()
    {
        var id = ManagerFixture.NewId("dup");
        var vm = await fixture.Manager.CreateVmAsync(id);
        await vm.ExecuteAsync("mark = 'first'");
        await Assert.ThrowsAsync<VmAlreadyExistsException>(() => fixture.Manager.CreateVmAsync(id));
        Assert.Equal("first", await vm.ExecuteAsync<string>("return mark"));
        Assert.Single(await fixture.Manager.ListVmsAsync(), v => v.VmId == id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/id")]
    public async Task Invalid_ids_are_refused(string id)
    {
        var error = await Assert.ThrowsAsync<InvalidVmRequestException>(() => fixture.Manager.CreateVmAsync(id));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
    }

    [Fact]
    public async Task Bad_limits_and_unknown_config_are_refused()
    {
        await Assert.ThrowsAsync<InvalidVmSpecException>(() => fixture.Manager.CreateVmAsync(
            ManagerFixture.NewId(), new VmOptions { Limits = new VmLimits(TimeoutMs: 0) }));
        await Assert.ThrowsAsync<InvalidVmSpecException>(() => fixture.Manager.CreateVmAsync(
            ManagerFixture.NewId(), new VmOptions { Limits = new VmLimits(MemoryMb: -5) }));
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() => fixture.Manager.CreateVmAsync(
            ManagerFixture.NewId(), new VmOptions { Config = new Dictionary<string, string> { ["x"] = "1" } }));
        Assert.Contains("takes no config", error.Message);
    }

    [Fact]
    public async Task Failing_init_script_refuses_the_vm_and_frees_its_id()
    {
        var id = ManagerFixture.NewId("init");
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() =>
            fixture.Manager.CreateVmAsync(id, new VmOptions { InitScript = "error('no config')" }));
        Assert.Equal(ErrorKind.InitFailed, error.Kind);
        Assert.Contains("no config", error.Message);
        var vm = await fixture.Manager.CreateVmAsync(id, new VmOptions { InitScript = "ready = true" });
        Assert.True(await vm.ExecuteAsync<bool>("return ready"));
    }

    [Fact]
    public async Task Unknown_vm_requests_are_not_found()
    {
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.ExecuteAsync("nobody", "return 1"));
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.GetVmInfoAsync("nobody"));
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.ResetVmAsync("nobody"));
    }

    [Fact]
    public async Task Another_interpreter_is_a_config_entry()
    {
        await using var manager = await ManagerFixture.StartAsync("""
            luaactors.vm-types.pinned {
              backend = process
              executable = /usr/bin/lua5.4
            }
            luaactors.vm-types.missing {
              backend = process
              executable = lua-that-does-not-exist
            }
            """);
        var vm = await manager.CreateVmAsync("pinned-1", new VmOptions { Type = "pinned" });
        Assert.Equal("pinned", (await vm.GetInfoAsync()).Type);
        Assert.Equal(6, await vm.ExecuteAsync<long>("return 2 * 3"));

        var error = await Assert.ThrowsAsync<VmCrashedException>(() =>
            manager.CreateVmAsync("missing-1", new VmOptions { Type = "missing" }));
        Assert.Contains("lua-that-does-not-exist", error.Message);
        Assert.DoesNotContain(await manager.ListVmsAsync(), v => v.VmId == "missing-1");
    }
}
