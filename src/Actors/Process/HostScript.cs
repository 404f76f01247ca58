using System.Security.Cryptography;
using System.Text;
using LuaActors.Configuration;

namespace LuaActors.Process;

/// <summary>
/// The VM host script (Lua/vmhost.lua, embedded in this assembly), written once per content
/// version to the temp directory so every interpreter can run it as a file.
/// </summary>
internal static class HostScript
{
    private static readonly Lazy<string> LazyPath = new(WriteOnce);

    public static string Text { get; } = EmbeddedText.Read("LuaActors.vmhost.lua");

    public static string Path => LazyPath.Value;

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
}
