using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using LuaActors.Configuration;

namespace LuaActors.Process;

/// <summary>
/// The VM host script (the modules of Lua/vmhost/, embedded in this assembly and bundled into
/// one chunk by <see cref="HostBundle"/>), written once per content version to the temp
/// directory so every interpreter can run it as a file; for the <c>lua5.4</c> that has
/// <c>luac5.4</c> beside it also precompiled (its lazy modules too), and that precompiled chunk
/// is what VMs load.
/// </summary>
internal static class HostScript
{
    private const string Lua54 = "lua5.4";
    private const string Luac54 = "luac5.4";

    private static readonly Lazy<string> LazyPath = new(WriteOnce);
    private static readonly Lazy<string?> LazyCompiledPath = new(CompileOnce);
    private static readonly ConcurrentDictionary<string, string> ScriptFor = new(StringComparer.Ordinal);

    public static string Text { get; } = HostBundle.Build(HostBundle.EmbeddedModules());

    public static string Path => LazyPath.Value;

    /// <summary>
    /// The script file <paramref name="executable"/> should run: the precompiled one for the
    /// Debian <c>lua5.4</c> (loading it takes ~0.6 ms instead of ~2.4 ms compiling the source
    /// at every VM start, docs/protocol.md §11.8), the source for anything else or when
    /// <c>luac5.4</c> is missing or fails.
    /// </summary>
    public static string PathFor(string executable) => ScriptFor.GetOrAdd(executable, static e =>
        IsLua54BesideLuac(e) && LazyCompiledPath.Value is { } compiled ? compiled : Path);

    private static string WriteOnce()
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Text)))[..16].ToLowerInvariant();
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "luaactors-" + hash);
        var path = System.IO.Path.Combine(directory, "vmhost.lua");
        if (File.Exists(path) && File.ReadAllText(path) == Text)
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        // Write then rename: another process may be starting VMs from the same file.
        var temp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temp, Text);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// Compiles the bundle once per .NET process (so a Lua upgrade never leaves stale bytecode
    /// behind), with the <c>lua5.4</c> beside <c>luac5.4</c> and with debug information: the
    /// script finds its own frames in tracebacks by their source name, which is the .lua file's,
    /// and names a host error's module and line from the line numbers. The lazy modules are
    /// compiled first, under that same name, and go into the compiled bundle as bytecode
    /// (HostBundle). <c>string.dump</c> writes what <c>luac5.4</c> would; it is used because it
    /// takes the chunk name to give.
    /// </summary>
    private static string? CompileOnce()
    {
        var luac = FindOnPath(Luac54);
        var lua = luac is null ? null : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(luac)!, Lua54);
        if (lua is null || !File.Exists(lua))
        {
            return null;
        }

        var source = Path;
        var chunkName = "@" + source;
        var compiled = System.IO.Path.ChangeExtension(source, ".luac");
        var temp = compiled + "." + Environment.ProcessId + ".tmp";
        try
        {
            var modules = HostBundle.EmbeddedModules();
            var lazy = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (name, text) in HostBundle.LazySources(modules))
            {
                if (Dump(lua, chunkName, text) is not { } bytecode)
                {
                    return null;
                }

                lazy[name] = bytecode;
            }

            if (Dump(lua, chunkName, HostBundle.Build(modules, lazy)) is not { } bundle)
            {
                return null;
            }

            File.WriteAllBytes(temp, bundle);
            File.Move(temp, compiled, overwrite: true);
            return compiled;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="text"/> compiled by <paramref name="lua"/> under <paramref name="chunkName"/>
    /// (<c>string.dump</c>, debug information kept); null if it did not compile.
    /// </summary>
    private static byte[]? Dump(string lua, string chunkName, string text)
    {
        if (chunkName.Contains('\n'))
        {
            return null;
        }

        // -E: no LUA_INIT, which could write to stdout before the bytecode.
        var info = new System.Diagnostics.ProcessStartInfo(lua)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-E");
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add("local name = io.read('l'); io.write(string.dump(assert(load(io.read('a'), name, 't'))))");
        using var process = System.Diagnostics.Process.Start(info);
        if (process is null)
        {
            return null;
        }

        var stderr = process.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        var stdout = process.StandardOutput.BaseStream.CopyToAsync(output);
        process.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(chunkName + "\n" + text));
        process.StandardInput.Close();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            return null;
        }

        stdout.Wait();
        stderr.Wait();
        var bytes = output.ToArray();
        return process.ExitCode == 0 && bytes.AsSpan().StartsWith("\u001bLuaT"u8) ? bytes : null;
    }

    /// <summary>
    /// Bytecode is only for the interpreter it was compiled for: <c>lua5.4</c> whose directory
    /// also holds the <c>luac5.4</c> found first on PATH (both from the lua5.4 package).
    /// </summary>
    private static bool IsLua54BesideLuac(string executable)
    {
        if (System.IO.Path.GetFileName(executable) != Lua54)
        {
            return false;
        }

        var interpreter = executable.Contains('/') ? executable : FindOnPath(executable);
        var luac = FindOnPath(Luac54);
        return interpreter is not null && luac is not null
            && System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(interpreter)) == System.IO.Path.GetDirectoryName(luac);
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => System.IO.Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}
