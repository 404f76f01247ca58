using CliWrap;
using CliWrap.Buffered;
using LuaActors.Tests.Support;
using Xunit.Abstractions;

namespace LuaActors.Tests;

/// <summary>
/// deploy/compose.yaml and deploy/kubernetes/luaactors.yaml, which no container engine or
/// Kubernetes runs here: parsed as YAML and their seed discovery settings cross-checked
/// (Deploy/check-manifests.py) when python3 with PyYAML is on the machine; the output says
/// NOT CHECKED when it is not.
/// </summary>
public sealed class DeployManifestsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_compose_file_and_the_kubernetes_manifests_use_discovery_consistently()
    {
        var probe = await Cli.Wrap("python3").WithArguments(["-c", "import yaml"])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync()
            .Task.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.ExitCode : -1, TaskScheduler.Default);
        if (probe != 0)
        {
            output.WriteLine("NOT CHECKED: python3 with PyYAML is not on this machine");
            return;
        }

        var script = Path.Combine(TestPaths.RepoRoot, "tests", "LuaActors.Tests", "Deploy", "check-manifests.py");
        var result = await Cli.Wrap("python3").WithArguments([script, TestPaths.RepoRoot])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        output.WriteLine(result.StandardOutput);
        Assert.True(result.ExitCode == 0, result.StandardError);
    }
}
