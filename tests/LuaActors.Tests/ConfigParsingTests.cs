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
    [InlineData("bind-addresses", "127.0.0.1,300.1.1.1", "bind-addresses entry \"300.1.1.1\" is not")]
    [InlineData("bind-addresses", "127.0.0.010", "bind-addresses entry \"127.0.0.010\" is not")]
    [InlineData("bind-addresses", "127.1", "bind-addresses entry \"127.1\" is not")]
    [InlineData("bind-addresses", "::ffff:127.0.0.1", "bind-addresses entry \"::ffff:127.0.0.1\" is not")]
    [InlineData("bind-addresses", "localhost", "bind-addresses entry \"localhost\" is not")]
    [InlineData("bind-addresses", "", "bind-addresses must list at least one address")]
    [InlineData("listen-ports", "0-100", "listen-ports \"0-100\" is not a port range")]
    [InlineData("listen-ports", "30000-20000", "listen-ports \"30000-20000\" is not a port range")]
    [InlineData("connect", "10.0.0.0/33:80", "connect entry \"10.0.0.0/33:80\" is not")]
    [InlineData("connect", "10.0.0.1", "connect entry \"10.0.0.1\" is not")]
    [InlineData("connect", "0x7f.1:80", "connect entry \"0x7f.1:80\" is not")]
    [InlineData("connect", "::1:80", "connect entry \"::1:80\" is not")]
    public async Task A_networking_setting_the_vm_cannot_use_is_refused_at_start_by_name(string key, string value, string expected)
    {
        var hocon = $"luaactors.vm.networking.{key} = \"{value}\"";
        // LuaActorsConfigurationException, a ConfigurationException that also names the key.
        var error = await Assert.ThrowsAnyAsync<ConfigurationException>(() =>
            VmManager.StartAsync(new VmManagerOptions { Config = hocon }).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Every_kind_of_networking_entry_the_check_passes_is_one_a_networked_vm_starts_with()
    {
        const string hocon = """
            luaactors.vm.networking {
              bind-addresses = "127.0.0.1, ::1,, 0.0.0.0, ::, fe80::1:2"
              listen-ports = "21000-21999"
              connect = "10.0.0.0/8:5432, 192.168.1.7:80-90, [::1]:8080, [fd00::/8]:1-65535"
            }
            """;
        await using var manager = await VmManager.StartAsync(new VmManagerOptions { Config = TestConfig.Hocon + hocon });
        var vm = await manager.CreateVmAsync("networked", new VmOptions { Networking = true });
        Assert.Equal("[true]", (await vm.ExecuteAsync("return socket ~= nil")).ValuesJson);
    }
}
