using CliWrap;
using LuaActors.Process;

namespace LuaActors.Tests;

/// <summary>KernelSupport's cheap probes agree with what the kernel does when asked the long way.</summary>
public sealed class KernelSupportTests
{
    [Fact]
    public async Task Namespaces_are_reported_as_unshare_finds_them()
    {
        var kernel = KernelSupport.Probe();
        var unshare = await Cli.Wrap("unshare").WithArguments(["--user", "--net", "true"])
            .WithValidation(CommandResultValidation.None).ExecuteAsync();

        Assert.Equal(unshare.ExitCode == 0, kernel.UserNamespaces && kernel.NetworkNamespaces);
    }

    [Fact]
    public void Seccomp_filters_and_no_new_privs_are_reported_as_the_process_status_shows_them()
    {
        // Seccomp_filters: is in /proc/PID/status on kernels with CONFIG_SECCOMP_FILTER (5.9+;
        // older ones with filters lack the line, so only this direction holds everywhere).
        var status = File.ReadAllLines("/proc/self/status");
        if (status.Any(line => line.StartsWith("Seccomp_filters:", StringComparison.Ordinal)))
        {
            Assert.True(KernelSupport.Probe().SeccompFilter);
        }

        Assert.Equal(status.Any(line => line.StartsWith("NoNewPrivs:", StringComparison.Ordinal)), KernelSupport.Probe().NoNewPrivs);
    }

    [Fact]
    public void The_one_line_summary_names_every_layer()
    {
        var line = KernelSupport.Probe().ToString();

        Assert.Matches(@"^landlock (ABI \d+|no), seccomp filters (yes|no), no_new_privs (yes|no), user namespaces (yes|no), network namespaces (yes|no)$", line);
    }
}
