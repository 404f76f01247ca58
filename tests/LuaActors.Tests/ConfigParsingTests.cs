using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Tests.Support;

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

    [Theory]
    [InlineData("127.0.0.1,300.1.1.1", "300.1.1.1")]
    [InlineData("10.0.0.0/33", "10.0.0.0/33")]
    [InlineData("127.0.0.0/8, 1.2.3", "1.2.3")]
    [InlineData("::1, fe80::zz", "fe80::zz")]
    [InlineData("127.0.0.1,localhost", "localhost")]
    [InlineData("127.0.0.1, ,::1", "")]
    public async Task A_networking_allow_entry_the_vm_cannot_parse_is_refused_at_start_by_name(string allow, string bad)
    {
        var hocon = $"luaactors.vm.networking.allow = \"{allow}\"";
        var error = await Assert.ThrowsAsync<ConfigurationException>(() =>
            VmManager.StartAsync(new VmManagerOptions { Config = hocon }).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"networking.allow entry \"{bad}\" is not", error.Message);
    }

    [Fact]
    public async Task Every_kind_of_networking_allow_entry_the_check_passes_is_one_a_networked_vm_starts_with()
    {
        // Addresses, CIDR blocks (/0 too), IPv6 (a mapped IPv4 one too), "*", spaces and an empty item.
        const string allow = "127.0.0.0/8, 10.1.2.3,,0.0.0.0/0, ::1, ::ffff:127.0.0.1, fe80::1:2, *";
        Assert.Null(VmSettings.BadAllowEntry(allow));
        await using var manager = await VmManager.StartAsync(new VmManagerOptions { Config = TestConfig.Hocon + $"luaactors.vm.networking.allow = \"{allow}\"" });
        var vm = await manager.CreateVmAsync("networked", new VmOptions { Networking = true });
        Assert.Equal("[true]", (await vm.ExecuteAsync("return socket ~= nil")).ValuesJson);
    }
}
