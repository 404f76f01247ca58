namespace LuaActors.Tests.Support;

/// <summary>Places the tests share: the repository's root and the built `luaactors` program.</summary>
internal static class TestPaths
{
    /// <summary>The `luaactors` program built beside the tests (run it with <c>dotnet exec</c>).</summary>
    public static string LuaActorsDll { get; } = Path.Combine(AppContext.BaseDirectory, "luaactors.dll");

    /// <summary>The folder of LuaActors.sln, above the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LuaActors.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("LuaActors.sln not found above the test binaries");
        }

        return root;
    }
}

/// <summary>A temporary file holding some text; deleted when disposed.</summary>
internal sealed class TempFile : IDisposable
{
    private TempFile(string path) => Path = path;

    public string Path { get; }

    public static async Task<TempFile> WithTextAsync(string text)
    {
        var file = new TempFile(System.IO.Path.GetTempFileName());
        await File.WriteAllTextAsync(file.Path, text);
        return file;
    }

    public void Dispose() => File.Delete(Path);
}
