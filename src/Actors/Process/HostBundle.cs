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
/// tool beyond the runtime (luac, when present, then precompiles the result: HostScript).
/// <para>
/// The modules of <see cref="LazyModules"/> go in as source text instead, compiled by the first
/// <c>require</c> of them: most VMs never need them, and a VM start's cost is mostly undumping
/// the precompiled chunk (docs/performance.md). They are compiled under the chunk's own name and
/// at their own lines of it (host frames stay host frames, errors name the module's line), with
/// the string table as it was when the chunk started (user code may change the shared one), and
/// only host code on the main thread requires them (handlers.lua, on the first 'L' with net=1).
/// </para>
/// </summary>
internal static class HostBundle
{
    private const string ResourcePrefix = "LuaActors.vmhost.";
    private const string MainModule = "main";

    /// <summary>Modules compiled on first use: networking (the <c>socket</c> table and its addresses).</summary>
    public static readonly IReadOnlySet<string> LazyModules =
        new HashSet<string>(["netaddr", "net", "net_sock", "net_listen"], StringComparer.Ordinal);

    /// <summary>The module sources embedded in this assembly, by module name, in ordinal order.</summary>
    public static IReadOnlyList<(string Name, string Source)> EmbeddedModules() =>
        typeof(HostBundle).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".lua", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => (name[ResourcePrefix.Length..^".lua".Length], EmbeddedText.Read(name)))
            .ToList();

    /// <summary>The bundled chunk of <paramref name="modules"/>; one of them must be "main".</summary>
    public static string Build(IReadOnlyList<(string Name, string Source)> modules)
    {
        if (!modules.Any(m => m.Name == MainModule))
        {
            throw new InvalidOperationException("the host script has no main module (Lua/vmhost/main.lua)");
        }

        const string head = """
            -- vmhost.lua: the VM host script, bundled from src/Actors/Lua/vmhost/*.lua (HostBundle.cs).
            -- Every module is a loader in `preload`, or its source in `sources` ({ first line, text },
            -- compiled when first required); `require` (a local: it shadows the global one in the
            -- modules) loads each once, and falls back to the interpreter's for anything else.
            local preload, loaded, sources = {}, {}, {}
            local lua_require, lua_load, srep = require, load, string.rep
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
                  f = assert(lua_load(srep("\n", s[1] - 1) .. s[2], SOURCE, "t", lazy_env))
                end
                m = f(name)
                if m == nil then m = true end
                loaded[name] = m
              end
              return m
            end
            lazy_env.require = require

            """;
        var body = new StringBuilder();
        var starts = new List<(int Line, string File)>();
        var headLines = CountLines(head) + 1; // + the line of the start table
        var line = headLines + 1;
        foreach (var (name, source) in modules.Where(m => m.Name != MainModule).Append(modules.First(m => m.Name == MainModule)))
        {
            var text = source.EndsWith('\n') ? source : source + "\n";
            if (LazyModules.Contains(name))
            {
                // A long string: its first newline is skipped, so the text keeps its lines.
                var level = new string('=', Enumerable.Range(0, 100).First(n => !text.Contains("]" + new string('=', n) + "]", StringComparison.Ordinal)));
                body.Append("sources[\"").Append(name).Append("\"] = { ").Append(line + 1).Append(", [").Append(level).Append("[\n");
                body.Append(text).Append(']').Append(level).Append("] }\n");
            }
            else
            {
                body.Append("preload[\"").Append(name).Append("\"] = function(...)\n");
                body.Append(text).Append("end\n");
            }

            starts.Add((line + 1, "vmhost/" + name + ".lua"));
            line += 1 + CountLines(text) + 1;
        }

        body.Append("return require(\"").Append(MainModule).Append("\")\n");
        var table = "loaded[\"vmhost.lines\"] = { "
            + string.Join(", ", starts.Select(s => "{ " + s.Line + ", \"" + s.File + "\" }")) + " }\n";
        return head + table + body;
    }

    private static int CountLines(string text) => text.Count(c => c == '\n');
}
