using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;

namespace LuaActors.Tests;

/// <summary>HOCON an embedder passes in: refused with a clear error, never a hang (Akka's parser loops on an unclosed '[').</summary>
public sealed class ConfigParsingTests
{
    [Theory]
    [InlineData("akka.cluster.roles = [a, b\n", "the '[' on line 1 is not closed")]
    [InlineData("x = 1\nluaactors.vm.default-timeout = 2s\nroles = [\n  a,\n", "the '[' on line 3 is not closed")]
    [InlineData("akka { x = ", "is not valid HOCON")]
    [InlineData("a = \"unterminated", "is not valid HOCON")]
    public async Task Broken_overrides_fail_at_once_with_what_is_wrong(string hocon, string problem)
    {
        var parsing = Task.Run(() => LuaActorsConfig.WithOverrides(hocon));
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => parsing.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(problem, error.Message);

        // The same through the embedding API, before any actor system starts.
        await Assert.ThrowsAsync<ConfigurationException>(() =>
            VmManager.StartAsync(new VmManagerOptions { Config = hocon }).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("luaactors.vm.default-timeout = 2s", "luaactors.vm.default-timeout", "00:00:02")]
    [InlineData("a = \"[not a list\" # [ nor this\n// ] or this\nb = [1, [2, 3]]", "a", "[not a list")]
    [InlineData("t = \"\"\"multi [\nline\"\"\"\nafter = [x]", "t", "multi [\nline")]
    public void Valid_overrides_with_brackets_in_strings_and_comments_parse(string hocon, string key, string expected)
    {
        var config = LuaActorsConfig.WithOverrides(hocon);
        var value = key == "luaactors.vm.default-timeout" ? config.GetTimeSpan(key).ToString() : config.GetString(key);
        Assert.Equal(expected, value);
        Assert.True(config.HasPath("luaactors.vm.memory-limit"), "the defaults are the fallback");
    }
}
