using System.Diagnostics;
using LuaActors.Tests.Support;
using Xunit.Abstractions;

namespace LuaActors.Tests;

/// <summary>
/// deploy/Dockerfile builds, where this machine has a container engine. Without one (no
/// `docker`, or no daemon behind it) the test says so in its output and checks only what it
/// can: that the image's entry point names the program the build produces.
/// </summary>
public sealed class ContainerImageTests(ITestOutputHelper output)
{
    private static string Dockerfile => Path.Combine(TestPaths.RepoRoot, "deploy", "Dockerfile");

    [Fact]
    public void The_entry_point_runs_the_program_the_build_produces()
    {
        var entryPoint = File.ReadLines(Dockerfile).Single(line => line.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
        Assert.Contains("/app/" + Path.GetFileName(TestPaths.LuaActorsDll), entryPoint, StringComparison.Ordinal);
        Assert.Contains("\"node\"", entryPoint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_image_builds_where_a_container_engine_runs()
    {
        var (infoCode, infoText) = await RunAsync("docker", "info --format {{.ServerVersion}}", TimeSpan.FromSeconds(20));
        if (infoCode != 0)
        {
            output.WriteLine($"NOT BUILT: no container engine on this machine (`docker info`: {infoText.Trim()})");
            return;
        }

        var (code, text) = await RunAsync("docker", $"build -f {Dockerfile} -t luaactors:test {TestPaths.RepoRoot}", TimeSpan.FromMinutes(10));
        Assert.True(code == 0, "docker build failed:\n" + text);
    }

    private static async Task<(int Code, string Text)> RunAsync(string program, string arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException(program + " did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{program} not found: {e.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{program} {arguments} did not finish within {timeout}");
            }

            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
