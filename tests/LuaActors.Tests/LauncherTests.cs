using CliWrap;
using CliWrap.Buffered;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// How VM processes are started: by luaactors-spawn (the default: one exec, from a small process)
/// or through the exec chain (<c>launcher = exec-chain</c>), with the same guarantees either way.
/// </summary>
public sealed class LauncherTests
{
    private const string Limits = "luaactors.vm.memory-limit = 32MiB\nluaactors.vm.address-space-headroom = 64MiB\n";

    [Fact]
    public async Task By_default_luaactors_spawn_starts_each_vm_process()
    {
        await using var manager = await ManagerFixture.StartAsync(Limits);
        var vm = await manager.CreateVmAsync("spawned");
        var pid = await LuaProcesses.PidAsync(vm);

        var parent = LuaProcesses.ParentOf(pid);
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(parent));
        Assert.Equal(Environment.ProcessId, LuaProcesses.ParentOf(parent));
        Launcher.AssertGuarded(pid);
        Assert.Equal(6, await vm.ExecuteAsync<long>("return 2 * 3"));

        // Its exit code comes from the launcher, which reaped it.
        LuaProcesses.Kill9(pid);
        var restarted = await LuaProcesses.NewPidAsync(vm, pid);
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(LuaProcesses.ParentOf(restarted)));
        var info = await vm.GetInfoAsync();
        Assert.Contains("killed by signal 9", info.LastError);
    }

    [Fact]
    public async Task A_vm_process_does_not_inherit_the_launchers_descriptor_table()
    {
        // The launcher holds one stderr pipe per VM. A child that copied its descriptor table
        // (as fork and vfork do) would get one as large, and every start would pay for all the
        // VMs already running: the kernel sizes a table in steps of 64 descriptors (FDSize).
        await using var manager = await ManagerFixture.StartAsync(Limits);
        var vms = new List<LuaVm>();
        for (var i = 0; i < 80; i++)
        {
            vms.Add(await manager.CreateVmAsync("fd-" + i));
        }

        var pid = await LuaProcesses.PidAsync(vms[^1]);
        var launcher = LuaProcesses.ParentOf(pid);
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(launcher));
        Assert.True(FdSize(launcher) > 64, $"the launcher's table: {FdSize(launcher)}");
        Assert.Equal(64, FdSize(pid));
        Assert.Equal(["0", "1", "2"], Directory.GetFiles($"/proc/{pid}/fd").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(6, await vms[^1].ExecuteAsync<long>("return 2 * 3"));
    }

    private static int FdSize(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("FDSize:", StringComparison.Ordinal))["FDSize:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_exec_chain_starts_vm_processes_itself_with_the_same_guarantees()
    {
        await using var manager = await ManagerFixture.StartAsync(Limits + """
            luaactors.vm-types.chained { backend = process, executable = lua5.4, launcher = exec-chain }
            """);
        var vm = await manager.CreateVmAsync("chained", new VmOptions { Type = "chained" });
        var pid = await LuaProcesses.PidAsync(vm);

        // setsid and setpriv exec into the interpreter: our own child.
        Assert.Equal(Environment.ProcessId, LuaProcesses.ParentOf(pid));
        Launcher.AssertGuarded(pid);
        Assert.Equal(6, await vm.ExecuteAsync<long>("return 2 * 3"));

        LuaProcesses.Kill9(pid);
        var restarted = await LuaProcesses.NewPidAsync(vm, pid);
        Assert.Equal(Environment.ProcessId, LuaProcesses.ParentOf(restarted));
        Assert.Contains("killed by signal 9", (await vm.GetInfoAsync()).LastError);
    }

    [Fact]
    public async Task A_temp_directory_too_long_for_a_socket_path_still_starts_vms()
    {
        // The launcher's socket lives in a temp directory; sun_path holds 107 bytes. A process of
        // its own (`luaactors eval`), since the launcher is started once per process.
        var tmp = Directory.CreateTempSubdirectory("luaactors-long-" + new string('x', 90));
        try
        {
            Assert.True(tmp.FullName.Length > 100);
            var result = await Cli.Wrap("dotnet")
                .WithArguments(["exec", TestPaths.LuaActorsDll, "eval", "return 6 * 7"])
                .WithEnvironmentVariables(env => env.Set("TMPDIR", tmp.FullName))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync();
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.Equal("42\n", result.StandardOutput);
        }
        finally
        {
            tmp.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_unknown_launcher_is_an_invalid_spec()
    {
        await using var manager = await ManagerFixture.StartAsync("""
            luaactors.vm-types.odd { backend = process, executable = lua5.4, launcher = fork-and-hope }
            """);
        var error = await Assert.ThrowsAsync<InvalidVmSpecException>(() =>
            manager.CreateVmAsync("odd", new VmOptions { Type = "odd" }));
        Assert.Equal(ErrorKind.InvalidSpec, error.Kind);
        Assert.Contains("launcher must be spawner or exec-chain", error.Message);
        Assert.Contains("fork-and-hope", error.Message);
    }

    [Theory]
    [InlineData("spawner")]
    [InlineData("exec-chain")]
    public async Task What_a_process_writes_to_stderr_before_it_dies_is_in_the_failure(string launcher)
    {
        // An "interpreter" that complains and exits: its words must reach the create's error,
        // whoever holds its stderr (luaactors-spawn forwards it; the exec chain's pipe is ours).
        await using var manager = await ManagerFixture.StartAsync(Limits + $$"""
            luaactors.vm-types.broken {
              backend = process, executable = sh, launcher = {{launcher}}, confinement.enabled = off
              arguments = ["-c", "echo 'first words' >&2; printf 'last words, no newline' >&2; exit 3"]
            }
            """);
        var failure = await Assert.ThrowsAnyAsync<LuaActorsException>(
            () => manager.CreateVmAsync("broken", new VmOptions { Type = "broken" }));
        Assert.Contains("exited with code 3", failure.Message, StringComparison.Ordinal);
        Assert.Contains("stderr: first words | last words, no newline", failure.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// Kills the launcher every VM of this test process shares, so it runs alone, after the rest.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LauncherLossCollection
{
    public const string Name = "launcher-loss";
}

[Collection(LauncherLossCollection.Name)]
public sealed class LauncherLossTests
{
    [Fact]
    public async Task A_lost_launcher_takes_its_vm_processes_with_it_and_the_vms_come_back()
    {
        await using var manager = await ManagerFixture.StartAsync();
        var vm = await manager.CreateVmAsync("orphaned", new VmOptions { InitScript = "x = 41" });
        var pid = await LuaProcesses.PidAsync(vm);
        var launcher = LuaProcesses.ParentOf(pid);
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(launcher));
        Assert.Equal(Environment.ProcessId, LuaProcesses.ParentOf(launcher));

        // Our own child, killed by its PID.
        LuaProcesses.Kill9(launcher);

        // Its VM process dies with it (PR_SET_PDEATHSIG) ...
        await LuaProcesses.AssertGoneAsync([pid]);
        // ... the VM is restarted like after a crash, through a new launcher ...
        var restarted = await LuaProcesses.NewPidAsync(vm, pid);
        var newLauncher = LuaProcesses.ParentOf(restarted);
        Assert.NotEqual(launcher, newLauncher);
        Assert.Equal("luaactors-spawn", LuaProcesses.Comm(newLauncher));
        // ... and answers, its init script run again in the new interpreter.
        Assert.Equal(41, await vm.ExecuteAsync<long>("return x"));
        Assert.Contains("launcher", (await vm.GetInfoAsync()).LastError);
    }

}

/// <summary>What every VM process must look like, whoever started it.</summary>
internal static class Launcher
{
    /// <summary>The interpreter itself, leading its own session, with RLIMIT_AS = 32 + 64 MiB.</summary>
    public static void AssertGuarded(int pid)
    {
        Assert.Equal("lua5.4", LuaProcesses.Comm(pid));
        Assert.Equal(pid, LuaProcesses.SessionOf(pid));
        var limit = File.ReadLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max address space", StringComparison.Ordinal));
        Assert.Equal(["100663296", "100663296", "bytes"], limit["Max address space".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
