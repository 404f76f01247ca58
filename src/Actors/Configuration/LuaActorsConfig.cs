using Akka.Configuration;

namespace LuaActors.Configuration;

/// <summary>Loads hocon/luaactors.conf, which ships inside this assembly.</summary>
public static class LuaActorsConfig
{
    private static readonly Lazy<Config> Defaults = new(() =>
        ConfigurationFactory.ParseString(EmbeddedText.Read("LuaActors.luaactors.conf")));

    /// <summary>The library's defaults, to be used as the fallback of an application's config.</summary>
    public static Config Default => Defaults.Value;

    /// <summary><paramref name="overrides"/> (HOCON text, may be empty) over the defaults.</summary>
    public static Config WithOverrides(string? overrides) =>
        string.IsNullOrWhiteSpace(overrides)
            ? Default
            : ConfigurationFactory.ParseString(overrides).WithFallback(Default);
}

internal static class EmbeddedText
{
    public static string Read(string name)
    {
        using var stream = typeof(EmbeddedText).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Resource {name} is missing from the LuaActors assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
