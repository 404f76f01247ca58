using CliWrap;
using CliWrap.Buffered;
using LuaActors.Process;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>`luaactors doctor`: exit 0 when every VM type can run here, 1 with one line per problem.</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class DoctorTests
{
    [Fact]
    public async Task With_the_default_config_every_type_can_run_here_and_doctor_exits_0()
    {
        var result = await DoctorAsync();

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\nstdout: {result.StandardOutput}\nstderr: {result.StandardError}");
        Assert.Equal("", result.StandardError);
        Assert.Contains($"kernel: {KernelSupport.Probe()}", result.StandardOutput);
        Assert.Contains("basic: interpreter 'lua5.4' runs: Lua 5.4", result.StandardOutput);
        Assert.Contains("basic: LuaSocket present (LuaSocket 3.", result.StandardOutput);
        Assert.Contains("basic: launcher luaactors-spawn built", result.StandardOutput);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_type_whose_interpreter_is_missing_or_lacks_luasocket_is_one_problem_line_each_and_exit_1()
    {
        // An interpreter that cannot load C modules: LuaSocket's core is one.
        using var wrapper = await TempFile.WithTextAsync("#!/bin/sh\nexec lua5.4 -e \"package.cpath = ''\" \"$@\"\n");
        File.SetUnixFileMode(wrapper.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var config = await TempFile.WithTextAsync($$"""
            luaactors.vm-types.gone { backend = process, executable = "/nonexistent/lua5.4" }
            luaactors.vm-types.socketless { backend = process, executable = "{{wrapper.Path}}" }
            """);

        var result = await DoctorAsync("--config", config.Path);

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\nstdout: {result.StandardOutput}\nstderr: {result.StandardError}");
        var problems = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, problems.Length);
        Assert.StartsWith("problem: gone: interpreter '/nonexistent/lua5.4' does not run", problems[0]);
        Assert.StartsWith($"problem: socketless: interpreter '{wrapper.Path}' has no LuaSocket", problems[1]);
        // The types that are fine stay fine.
        Assert.Contains("ok      basic: LuaSocket present", result.StandardOutput);
        Assert.Contains("ok      socketless: interpreter", result.StandardOutput);
    }

    [Theory]
    [InlineData("unknown argument '--frob'", "--frob")]
    [InlineData("cannot read the config file", "--config", "/nonexistent/node.conf")]
    public async Task Bad_arguments_exit_2(string message, params string[] args)
    {
        var result = await DoctorAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StandardError);
    }

    private static Task<BufferedCommandResult> DoctorAsync(params string[] args) =>
        Cli.Wrap("dotnet")
            .WithArguments(["exec", TestPaths.LuaActorsDll, "doctor", .. args])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
}
