using System.ComponentModel;
using Akka.Configuration;
using LuaActors.Backends;

namespace LuaActors.Process;

/// <summary>One line of <c>luaactors doctor</c>: what was found for a VM type (or the kernel), and whether it is a problem.</summary>
public sealed record DoctorFinding(string Subject, string Text, bool IsProblem)
{
    public override string ToString() => $"{Subject}: {Text}";
}

/// <summary>
/// Checks that each configured VM type can run on this machine: its interpreter runs (and which
/// Lua it is), it has LuaSocket (any VM may be created with networking), the launcher it asks for
/// is there, and the kernel has the confinement layers it uses. What <c>luaactors doctor</c> runs.
/// </summary>
public static class VmTypeDoctor
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);
    private static readonly string[] ExecChainTools = ["setsid", "setpriv"];

    // Below this many VMs per node, the descriptor limit is worth a warning.
    private const int MinCapacity = 100;

    // Prints the Lua version, then LuaSocket's (or why it cannot be loaded), one per line.
    private const string Probe = """
        io.write(_VERSION, "\n")
        local ok, socket = pcall(require, "socket")
        if ok then io.write("socket ", tostring(socket._VERSION), "\n")
        else io.write("none: ", (tostring(socket):gsub("\n.*", "")), "\n") end
        """;

    /// <summary>The findings for every type under <c>luaactors.vm-types</c> of <paramref name="config"/>, then the kernel.</summary>
    public static async Task<IReadOnlyList<DoctorFinding>> CheckAsync(Config config, KernelSupport kernel)
    {
        var findings = new List<DoctorFinding>
        {
            new("kernel", kernel.ToString(), false),
            // What a node started like this command would hold (its limit raised the same way).
            new("capacity", VmCapacity.Describe(), VmCapacity.Processes < MinCapacity),
        };
        var types = config.GetConfig("luaactors.vm-types");
        foreach (var type in types?.Root.GetObject().Items.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
        {
            var typeConfig = types!.GetConfig(type);
            var backend = typeConfig.GetString("backend", "");
            switch (backend)
            {
                case "process":
                    findings.AddRange(await CheckProcessTypeAsync(type, typeConfig, kernel).ConfigureAwait(false));
                    break;
                case "xcpng-stub":
                    findings.Add(new(type, "xcpng stub backend: nothing runs on this machine", false));
                    break;
                default:
                    findings.Add(new(type, $"backend '{backend}' is not one of process, xcpng-stub", true));
                    break;
            }
        }

        return findings;
    }

    private static async Task<IEnumerable<DoctorFinding>> CheckProcessTypeAsync(string type, Config typeConfig, KernelSupport kernel)
    {
        var findings = new List<DoctorFinding>();
        ProcessTypeConfig process;
        try
        {
            process = ProcessTypeConfig.From(type, typeConfig);
        }
        catch (ConfigurationException e)
        {
            findings.Add(new(type, e.Message, true));
            return findings;
        }

        var (executable, arguments, _) = process;
        var (lines, failure) = await RunProbeAsync([executable, .. arguments, "-e", Probe]).ConfigureAwait(false);
        if (failure is not null)
        {
            findings.Add(new(type, $"interpreter '{executable}' does not run: {failure}", true));
        }
        else
        {
            findings.Add(new(type, $"interpreter '{executable}' runs: {lines[0]}", false));
            findings.Add(lines.Length > 1 && lines[1].StartsWith("socket ", StringComparison.Ordinal)
                ? new(type, $"LuaSocket present ({lines[1]["socket ".Length..]}): VMs created with networking use it", false)
                : new(type, $"interpreter '{executable}' has no LuaSocket, which VMs created with networking need ({(lines.Length > 1 ? lines[1] : "no answer")}); install lua-socket for it", true));
        }

        if (process.ViaSpawner)
        {
            findings.Add(Spawner.BinaryPath is { } path
                ? new(type, $"launcher luaactors-spawn built ({path})", false)
                : new(type, "launcher = spawner but luaactors-spawn was not built (no C compiler at build time): VMs start through the slower exec chain; install gcc and rebuild", true));
        }
        else
        {
            var missing = ExecChainTools.Where(tool => !OnPath(tool)).ToList();
            findings.Add(missing.Count == 0
                ? new(type, "launcher exec-chain: setsid and setpriv found", false)
                : new(type, $"launcher = exec-chain but {string.Join(" and ", missing)} not on PATH (util-linux)", true));
        }

        if (typeConfig.GetBoolean("confinement.enabled", true))
        {
            if (kernel.LandlockAbi < KernelSupport.LandlockNetworkAbi)
            {
                findings.Add(new(type, $"confinement is on but this kernel's Landlock {(kernel.LandlockAbi == 0 ? "is missing" : $"ABI {kernel.LandlockAbi} has no TCP port rules")} (ABI {KernelSupport.LandlockNetworkAbi}+, Linux 6.7+); set confinement.enabled = off or upgrade the kernel", true));
            }

            if (!kernel.SeccompFilter || !kernel.NoNewPrivs)
            {
                findings.Add(new(type, "confinement is on but this kernel has no seccomp filters (or no_new_privs); set confinement.enabled = off", true));
            }
        }
        else
        {
            findings.Add(new(type, "confinement off: VM processes are confined by the Lua sandbox alone", false));
        }

        return findings;
    }

    /// <summary>The probe's output lines, or why it did not run: with the environment a VM gets.</summary>
    private static async Task<(string[] Lines, string? Failure)> RunProbeAsync(string[] commandLine)
    {
        var info = new System.Diagnostics.ProcessStartInfo(commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in commandLine.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        VmEnvironment.Apply(info.Environment);
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(info) ?? throw new IOException("did not start");
        }
        catch (Exception e) when (e is Win32Exception or IOException)
        {
            return ([], e.Message);
        }

        using (process)
        {
            process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(ProbeTimeout);
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var errors = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
                var lines = (await output.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                var stderr = (await errors.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                return process.ExitCode == 0 && lines.Length > 0
                    ? (lines, null)
                    : ([], $"exit code {process.ExitCode}{(stderr is null ? "" : ": " + stderr)}");
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                return ([], $"no answer within {ProbeTimeout.TotalSeconds} s");
            }
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? VmEnvironment.DefaultPath)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
