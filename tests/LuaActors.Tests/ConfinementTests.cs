using System.Net;
using System.Net.Sockets;
using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The kernel's second wall (docs/guarantees.md, "Confinement"): with the Lua sandbox off, real
/// attacks from a script must still fail when the type is confined, and succeed when it is not.
/// </summary>
public sealed class ConfinementTests
{
    // Two test-only types with the whole standard library: the same attacks run in both.
    private const string Config = """
        luaactors.vm.networking.listen-ports = "20000-29999"
        luaactors.vm-types {
          attack-confined { backend = process, executable = lua5.4, UNSAFE-lua-sandbox-off = on }
          attack-open { backend = process, executable = lua5.4, UNSAFE-lua-sandbox-off = on, confinement.enabled = off }
        }
        """;

    private static readonly string[] AllLayers = ["no-new-privs", "seccomp", "landlock-fs", "landlock-net", "landlock-scope", "rlimits"];

    // Each attack returns true when it got what it wanted. `dir`, `node`, `victim`, `open_port`
    // and `free_port` are set by the test. The fork attack keeps its pipe open (closing would
    // wait for the child): the test ends that child.
    private const string Attacks = """
        local s_ok, socket = pcall(require, "socket")
        local attacks = {
          { "os.execute", function() return os.execute("touch " .. dir .. "/executed") == true end },
          { "io.popen", function()
              local p = io.popen("echo hi"); if not p then return false end
              local out = p:read("a"); p:close(); return out == "hi\n" end },
          { "read /etc/passwd", function()
              local f = io.open("/etc/passwd"); return f ~= nil and f:read("l") ~= nil end },
          { "write in /tmp", function()
              local f = io.open(dir .. "/written", "w"); if not f then return false end
              local ok = f:write("x") ~= nil and f:flush() ~= nil; f:close(); return ok end },
          { "connect to a port not granted", function()
              local c = s_ok and socket.connect("127.0.0.1", open_port)
              if c then c:close() return true end return false end },
          { "bind a port not granted", function()
              local srv = s_ok and socket.bind("127.0.0.1", free_port)
              if srv then srv:close() return true end return false end },
          { "kill the node", function()
              local p = io.popen("kill -9 " .. victim); return p ~= nil and p:close() == true end },
          { "read the node's environ", function()
              local f = io.open("/proc/" .. node .. "/environ"); return f ~= nil and f:read("a") ~= nil end },
          { "fork", function()
              forked = io.popen("sleep 60"); return forked ~= nil end },
        }
        local out = {}
        for _, a in ipairs(attacks) do
          local ok, got = pcall(a[2])
          out[#out + 1] = a[1] .. "=" .. ((ok and got) and "1" or "0")
        end
        return table.concat(out, ";")
        """;

    [Fact]
    public async Task Attacks_from_a_vm_without_its_lua_sandbox_fail_when_confined_and_succeed_when_not()
    {
        await using var manager = await ManagerFixture.StartAsync(Config);
        var dir = Directory.CreateTempSubdirectory("luaactors-attack-");
        using var victim = System.Diagnostics.Process.Start("sleep", "600");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var openPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var freePort = FreePort();
        Assert.False(openPort is >= 20000 and <= 29999 || freePort is >= 20000 and <= 29999);
        var started = new List<int>();
        try
        {
            var bystander = await manager.CreateVmAsync(ManagerFixture.NewId("bystander"));
            await bystander.ExecuteAsync("counter = 41");
            var script = $"dir, node, victim, open_port, free_port = \"{dir.FullName}\", {Environment.ProcessId}, {victim.Id}, {openPort}, {freePort}\n" + Attacks;

            // Confined, with networking (sockets granted, but only in listen-ports) and without.
            foreach (var networking in new[] { true, false })
            {
                var vm = await manager.CreateVmAsync(ManagerFixture.NewId("confined"), new VmOptions { Type = "attack-confined", Networking = networking });
                var info = await vm.GetInfoAsync();
                Assert.Equal(AllLayers, info.Confinement);
                var results = Parse(await vm.ExecuteAsync<string>(script));
                started.AddRange(Descendants(info.ProcessId!.Value));
                Assert.All(results, r => Assert.False(r.Value, $"{r.Key} succeeded in a confined VM (networking {networking})"));
                Assert.Equal(9, results.Count);
                Assert.Empty(started);

                // os.exit ends the VM's own process only: it comes back, the node carries on.
                await Assert.ThrowsAnyAsync<Exception>(() => vm.ExecuteAsync("os.exit(3)"));
                await LuaProcesses.NewPidAsync(vm, info.ProcessId!.Value);
            }

            Assert.Empty(dir.EnumerateFileSystemInfos());
            Assert.False(victim.HasExited);
            Assert.Equal(42, await bystander.ExecuteAsync<long>("counter = counter + 1 return counter"));

            // The same attacks with confinement off: each one works, so the assertions above can fail.
            var open = await manager.CreateVmAsync(ManagerFixture.NewId("open"), new VmOptions { Type = "attack-open", Networking = true });
            var openInfo = await open.GetInfoAsync();
            Assert.Empty(openInfo.Confinement!);
            var openResults = Parse(await open.ExecuteAsync<string>(script));
            started.AddRange(Descendants(openInfo.ProcessId!.Value));
            Assert.All(openResults, r => Assert.True(r.Value, $"{r.Key} failed without confinement"));
            Assert.NotEmpty(started); // the forked sleep (ended below)
            Assert.True(File.Exists(Path.Combine(dir.FullName, "executed")) && File.Exists(Path.Combine(dir.FullName, "written")));
            await Eventually.TrueAsync(() => victim.HasExited, what: "the stand-in node was killed");
        }
        finally
        {
            foreach (var pid in started.Where(LuaProcesses.IsAlive))
            {
                LuaProcesses.Kill9(pid);
            }

            if (!victim.HasExited)
            {
                victim.Kill();
            }

            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Vm_info_lists_the_layers_that_confine_each_vm()
    {
        await using var manager = await ManagerFixture.StartAsync("""
            luaactors.vm-types.plain { backend = process, executable = lua5.4, confinement.enabled = off }
            luaactors.vm-types.no-seccomp { backend = process, executable = lua5.4, confinement.seccomp = off }
            """);
        var basic = await manager.CreateVmAsync(ManagerFixture.NewId("basic"));
        Assert.Equal(AllLayers, (await basic.GetInfoAsync()).Confinement);
        var networking = await manager.CreateVmAsync(ManagerFixture.NewId("net"), new VmOptions { Networking = true });
        Assert.Equal(AllLayers, (await networking.GetInfoAsync()).Confinement);
        var plain = await manager.CreateVmAsync(ManagerFixture.NewId("plain"), new VmOptions { Type = "plain" });
        Assert.Empty((await plain.GetInfoAsync()).Confinement!);
        var noSeccomp = await manager.CreateVmAsync(ManagerFixture.NewId("no-seccomp"), new VmOptions { Type = "no-seccomp" });
        Assert.Equal(AllLayers.Where(l => l != "seccomp"), (await noSeccomp.GetInfoAsync()).Confinement);
        Assert.Equal(2, await noSeccomp.ExecuteAsync<long>("return 1 + 1"));
    }

    [Fact]
    public async Task Types_with_different_interpreters_each_may_execute_only_their_own()
    {
        // Two copies of the interpreter under other names run the same host script: the same
        // request block, but each Landlock ruleset must allow executing its own program.
        var dir = Directory.CreateTempSubdirectory("luaactors-interpreters-");
        try
        {
            var interpreter = Environment.GetEnvironmentVariable("PATH")!.Split(':')
                .Select(d => Path.Combine(d, "lua5.4")).First(File.Exists);
            foreach (var name in new[] { "lua-a", "lua-b" })
            {
                File.Copy(interpreter, Path.Combine(dir.FullName, name));
            }

            await using var manager = await ManagerFixture.StartAsync($$"""
                luaactors.vm-types.a { backend = process, executable = "{{dir.FullName}}/lua-a", spare-processes = 0 }
                luaactors.vm-types.b { backend = process, executable = "{{dir.FullName}}/lua-b", spare-processes = 0 }
                """);
            foreach (var type in new[] { "a", "b", "a" })
            {
                var vm = await manager.CreateVmAsync(ManagerFixture.NewId(type), new VmOptions { Type = type });
                Assert.Equal(AllLayers, (await vm.GetInfoAsync()).Confinement);
                Assert.Equal(2, await vm.ExecuteAsync<long>("return 1 + 1"));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_host_script_replaced_by_another_process_still_starts_confined_vms()
    {
        // Another process of this build (a second node, `luaactors eval`) writes the same host
        // script into the same shared directory, replacing the file: a new inode after the
        // launcher cached its Landlock ruleset.
        await using var manager = await ManagerFixture.StartAsync(
            "luaactors.vm-types.fresh { backend = process, executable = lua5.4, spare-processes = 0 }");
        var first = await manager.CreateVmAsync(ManagerFixture.NewId("fresh"), new VmOptions { Type = "fresh" });
        Assert.Equal(AllLayers, (await first.GetInfoAsync()).Confinement);
        var script = LuaActors.Process.HostScript.PathFor("lua5.4");
        var copy = script + ".test-copy";
        File.Copy(script, copy, overwrite: true);
        File.Move(copy, script, overwrite: true);

        var second = await manager.CreateVmAsync(ManagerFixture.NewId("fresh"), new VmOptions { Type = "fresh" });
        Assert.Equal(2, await second.ExecuteAsync<long>("return 1 + 1"));
    }

    [Fact]
    public void Confinement_settings_are_read_per_type_with_every_layer_on_by_default()
    {
        var networking = NetworkingSettings.From(ConfigurationFactory.ParseString("""
            networking { bind-addresses = "127.0.0.1", listen-ports = "20000-20009", max-sockets = 8,
                         connect = "10.0.0.0/8:5432,[::1]:6379-6380" }
            """));
        var all = ConfinementSettings.From("t", ConfigurationFactory.ParseString("backend = process"), networking);
        Assert.Equal(ConfinementLayers.NoNewPrivs | ConfinementLayers.Seccomp | ConfinementLayers.LandlockFilesystem
            | ConfinementLayers.LandlockNetwork | ConfinementLayers.LandlockScope | ConfinementLayers.Rlimits, all.Layers);
        Assert.Equal([(20000, 20009)], all.BindPorts);
        Assert.Equal([(20000, 20009), (5432, 5432), (6379, 6380)], all.ConnectPorts);
        Assert.False(ConfinementSettings.From("t", ConfigurationFactory.ParseString("confinement.enabled = off"), networking).Enabled);
        Assert.Equal(ConfinementLayers.NoNewPrivs | ConfinementLayers.Seccomp | ConfinementLayers.Rlimits,
            ConfinementSettings.From("t", ConfigurationFactory.ParseString("confinement.landlock = off"), null).Layers);
        Assert.False(ConfinementSettings.From("t", Akka.Configuration.Config.Empty, null).PortsKnown);
        Assert.Throws<ConfigurationException>(() => ConfinementSettings.From("t", ConfigurationFactory.ParseString("confinement.max-open-files = 2"), null));
    }

    private static Dictionary<string, bool> Parse(string? results) =>
        results!.Split(';').Select(r => r.Split('=')).ToDictionary(r => r[0], r => r[1] == "1");

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static List<int> ChildrenOf(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path)
            ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList()
            : [];
    }

    private static List<int> Descendants(int pid) =>
        ChildrenOf(pid).SelectMany(child => Descendants(child).Prepend(child)).ToList();
}
