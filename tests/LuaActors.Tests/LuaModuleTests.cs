using System.Diagnostics;
using System.Text.RegularExpressions;
using LuaActors.Process;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The host script's modules (src/Actors/Lua/vmhost/): their Lua unit tests (tests/lua/run.lua,
/// run with lua5.4 on the module files and on the bundled script VMs load), and the bundle's
/// record of where each module starts.
/// </summary>
public sealed partial class LuaModuleTests
{
    private static readonly string ModuleDir = Path.Combine(TestPaths.RepoRoot, "src", "Actors", "Lua", "vmhost");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lua_unit_tests_pass_on_the_modules_and_the_bundle(bool precompiled)
    {
        // precompiled: the bytecode VMs load (lazy modules as bytecode too), else the source
        var bundle = precompiled ? HostScript.PathFor("lua5.4") : HostScript.Path;
        Assert.EndsWith(precompiled ? ".luac" : ".lua", bundle, StringComparison.Ordinal);
        var info = new ProcessStartInfo("lua5.4")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tests", "lua", "run.lua"));
        info.ArgumentList.Add(ModuleDir);
        info.ArgumentList.Add(bundle);
        using var lua = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("lua5.4 did not start");
        var stdout = lua.StandardOutput.ReadToEndAsync();
        var stderr = lua.StandardError.ReadToEndAsync();
        // A guard against a hang, not a timing assertion: the tests take well under a second.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await lua.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            lua.Kill();
            throw;
        }

        var report = await stderr + await stdout;
        Assert.True(lua.ExitCode == 0, $"tests/lua/run.lua exited {lua.ExitCode}:\n{report}");
        Assert.Matches(@"^[1-9]\d* passed, 0 failed$", report.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void Every_module_file_is_embedded_and_bundled()
    {
        var files = Directory.GetFiles(ModuleDir, "*.lua").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        var embedded = HostBundle.EmbeddedModules();
        Assert.Equal(files, embedded.Select(m => m.Name));
        Assert.Equal(HostBundle.Build(embedded), HostScript.Text);
        foreach (var (name, source) in embedded)
        {
            Assert.Equal(File.ReadAllText(Path.Combine(ModuleDir, name + ".lua")), source);
        }
    }

    [Fact]
    public void The_bundle_records_the_line_each_module_starts_on()
    {
        var modules = HostBundle.EmbeddedModules();
        var bundle = HostBundle.Build(modules).Split('\n');
        var starts = StartPattern().Matches(string.Join('\n', bundle.Where(l => l.StartsWith("loaded[\"vmhost.lines\"]", StringComparison.Ordinal))))
            .ToDictionary(m => m.Groups[2].Value, m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(modules.Count, starts.Count);
        // With the lazy modules as bytecode (any bytes), every line of the others stays in place.
        var allBytes = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var precompiled = HostBundle.Build(modules, HostBundle.LazyModules.ToDictionary(m => m, _ => allBytes)).Split('\n');
        Assert.Equal(bundle.Length, precompiled.Length);
        var lazySources = HostBundle.LazySources(modules).ToDictionary(m => m.Name, m => m.Text.Split('\n'));
        Assert.Equal(HostBundle.LazyModules.Order(), lazySources.Keys.Order());
        foreach (var (name, source) in modules)
        {
            var first = starts["vmhost/" + name + ".lua"];
            var lines = source.Split('\n');
            // What a lazy module is compiled from: its source, after blank lines up to its start.
            var compiledFrom = lazySources.GetValueOrDefault(name);
            Assert.All(compiledFrom?[..(first - 1)] ?? [], l => Assert.Equal("", l));
            // Line n of the module is line first + n - 1 of the bundle: its first, middle and last lines.
            foreach (var n in new[] { 1, (lines.Length + 1) / 2, lines.Length - 1 })
            {
                Assert.Equal(lines[n - 1], bundle[first + n - 2]);
                Assert.Equal(lines[n - 1], compiledFrom is null ? precompiled[first + n - 2] : compiledFrom[first + n - 2]);
            }
        }
    }

    [GeneratedRegex("""\{ (\d+), "([^"]+)" \}""")]
    private static partial Regex StartPattern();
}
