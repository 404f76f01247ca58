using System.Text;
using LuaActors.Configuration;

namespace LuaActors.Process;

/// <summary>
/// Bundles the host script's modules (Lua/vmhost/*.lua, embedded in this assembly) into the one
/// chunk every VM runs: each module becomes a loader function in a table local to the chunk, and
/// a small <c>require</c>, also local, loads them once each; main.lua runs last. Nothing of it is
/// a global: user code, which only ever sees its sandbox environment, cannot reach the loaders or
/// the loaded modules. The chunk also records where each module starts, so a host error names
/// the module's file and line (main.lua). Built once per process, in memory: microseconds, and no
/// tool beyond the runtime (HostScript then precompiles it for the Debian lua5.4).
/// <para>
/// The modules of <see cref="LazyModules"/> are loaded by the first <c>require</c> of them
/// instead: most VMs never need them, and a VM start's cost is mostly undumping the precompiled
/// chunk (docs/performance.md). In the source bundle (<see cref="Build"/> without bytecode) they
/// go in as source text, compiled then; in the precompiled one (HostScript) as bytecode, compiled
/// at build time from <see cref="LazySources"/> (compiling source costs a VM far more than
/// undumping bytecode). Either way they are compiled under the chunk's own name and at their own
/// lines of it (host frames stay host frames, errors name the module's line), and loaded with
/// the string table as it was when the chunk started (user code may change the shared one).
/// Only host code requires them: on the main thread (handlers.lua, on the first 'L' with net=1)
/// or in a sandbox wrapper in the user coroutine (vm_api.lua: the first message decoded, the
/// first vm.storage call), where the limit hook is off while the module loads, so a limit
/// never stops a module halfway (it is back on before user code runs again).
/// The bytecode is a constant of the host chunk, loaded by the chunk's own <c>load</c>; the
/// sandbox's <c>load</c> stays text-only.
/// </para>
/// </summary>
internal static class HostBundle
{
    private const string ResourcePrefix = "LuaActors.vmhost.";
    private const string MainModule = "main";

    /// <summary>
    /// Modules compiled on first use: networking (the <c>socket</c> table and its addresses),
    /// the decoder of inbound messages and answers, and <c>vm.storage</c>. A plain VM needs none
    /// of them, and undumping them was about 0.35 M of a VM start's 4.45 M instructions.
    /// </summary>
    public static readonly IReadOnlySet<string> LazyModules =
        new HashSet<string>(["netaddr", "net", "net_sock", "net_listen", "json_decode", "storage"], StringComparer.Ordinal);

    private const string Head = """
        -- vmhost.lua: the VM host script, bundled from src/Actors/Lua/vmhost/*.lua (HostBundle.cs).
        -- Every module is a loader in `preload`, or in `sources` as { first line, source text }
        -- or { 0, bytecode } (compiled when first required); `require` (a local: it shadows the
        -- global one in the modules) loads each once, and falls back to the interpreter's for
        -- anything else.
        local preload, loaded, sources = {}, {}, {}
        local lua_require, lua_load, srep, pcall, error = require, load, string.rep, pcall, error
        local gethook, sethook = debug.gethook, debug.sethook
        local SOURCE = debug.getinfo(1, "S").source
        local pristine = {}
        for k, v in next, string do pristine[k] = v end
        local lazy_env = setmetatable({ string = pristine }, { __index = _ENV })
        local function require(name)
          local m = loaded[name]
          if m == nil then
            local f = preload[name]
            if f == nil then
              local s = sources[name]
              if s == nil then return lua_require(name) end
              -- Host code in a user coroutine may be first to require it (vm.storage): no
              -- limit hook while it loads, so no limit stops it halfway.
              local hf, hm, hc = gethook()
              if hf then sethook() end
              local ok, res, err
              if s[1] == 0 then
                ok, res, err = pcall(lua_load, s[2], SOURCE, "b", lazy_env)
              else
                ok, res, err = pcall(lua_load, srep("\n", s[1] - 1) .. s[2], SOURCE, "t", lazy_env)
              end
              if ok and res then ok, res = pcall(res, name) elseif ok then ok, res = false, err end
              if hf then sethook(hf, hm, hc) end
              if not ok then error(res, 0) end
              m = res
            else
              m = f(name)
            end
            if m == nil then m = true end
            loaded[name] = m
          end
          return m
        end
        lazy_env.require = require

        """;

    /// <summary>The module sources embedded in this assembly, by module name, in ordinal order.</summary>
    public static IReadOnlyList<(string Name, string Source)> EmbeddedModules() =>
        typeof(HostBundle).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".lua", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => (name[ResourcePrefix.Length..^".lua".Length], EmbeddedText.Read(name)))
            .ToList();

    /// <summary>
    /// The bundled chunk of <paramref name="modules"/>; one of them must be "main". With
    /// <paramref name="lazyBytecode"/> (a precompiled chunk of each lazy module's
    /// <see cref="LazySources"/> text, under the bundle's chunk name) the lazy modules go in as
    /// that bytecode, on lines of their own: the bundle keeps the same lines. Such a bundle is only
    /// for the interpreter that compiled the bytecode.
    /// </summary>
    public static string Build(IReadOnlyList<(string Name, string Source)> modules, IReadOnlyDictionary<string, byte[]>? lazyBytecode = null)
    {
        var body = new StringBuilder();
        var layout = Layout(modules);
        foreach (var (name, text, first) in layout)
        {
            if (!LazyModules.Contains(name))
            {
                body.Append("preload[\"").Append(name).Append("\"] = function(...)\n");
                body.Append(text).Append("end\n");
            }
            else if (lazyBytecode is null)
            {
                // A long string: its first newline is skipped, so the text keeps its lines.
                var level = new string('=', Enumerable.Range(0, 100).First(n => !text.Contains("]" + new string('=', n) + "]", StringComparison.Ordinal)));
                body.Append("sources[\"").Append(name).Append("\"] = { ").Append(first).Append(", [").Append(level).Append("[\n");
                body.Append(text).Append(']').Append(level).Append("] }\n");
            }
            else
            {
                // One line of escapes, then the lines the text would take: every later line stays put.
                var bytecode = lazyBytecode.TryGetValue(name, out var b) ? b : throw new InvalidOperationException("no bytecode for the lazy module " + name);
                body.Append("sources[\"").Append(name).Append("\"] = { 0, \"");
                AppendEscaped(body, bytecode);
                body.Append("\" }").Append('\n', 2 + CountLines(text));
            }
        }

        body.Append("return require(\"").Append(MainModule).Append("\")\n");
        var table = "loaded[\"vmhost.lines\"] = { "
            + string.Join(", ", layout.Select(m => "{ " + m.First + ", \"vmhost/" + m.Name + ".lua\" }")) + " }\n";
        return Head + table + body;
    }

    /// <summary>
    /// The text the chunk compiles for each lazy module: the module's source after as many
    /// newlines as put its first line where the bundle has it.
    /// </summary>
    public static IReadOnlyList<(string Name, string Text)> LazySources(IReadOnlyList<(string Name, string Source)> modules) =>
        Layout(modules)
            .Where(m => LazyModules.Contains(m.Name))
            .Select(m => (m.Name, new string('\n', m.First - 1) + m.Text))
            .ToList();

    /// <summary>
    /// The modules in bundle order (main last), each with its text (ending in a newline) and the
    /// bundle line that text starts on.
    /// </summary>
    private static List<(string Name, string Text, int First)> Layout(IReadOnlyList<(string Name, string Source)> modules)
    {
        if (!modules.Any(m => m.Name == MainModule))
        {
            throw new InvalidOperationException("the host script has no main module (Lua/vmhost/main.lua)");
        }

        var layout = new List<(string Name, string Text, int First)>();
        var line = CountLines(Head) + 2; // after the head and the line of the start table
        foreach (var (name, source) in modules.Where(m => m.Name != MainModule).Append(modules.First(m => m.Name == MainModule)))
        {
            var text = source.EndsWith('\n') ? source : source + "\n";
            layout.Add((name, text, line + 1)); // after the line that opens the loader or source
            line += 1 + CountLines(text) + 1;
        }

        return layout;
    }

    private static void AppendEscaped(StringBuilder body, byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\')
            {
                body.Append((char)b);
            }
            else
            {
                body.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    private static int CountLines(string text) => text.Count(c => c == '\n');
}
