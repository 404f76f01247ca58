using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;

namespace LuaActors.UnitTests;

/// <summary>The options object of WithLuaActors: what it refuses (naming the key and the values it takes) and how it overlays the HOCON.</summary>
public sealed class LuaActorsOptionsTests
{
    public static TheoryData<string, Action<LuaActorsOptions>, string> BadOptions => new()
    {
        { "luaactors.vm.default-timeout", o => o.DefaultTimeout = TimeSpan.Zero, "a duration above 0" },
        { "luaactors.vm.kill-grace", o => o.KillGrace = TimeSpan.FromSeconds(-1), "a duration of 0 or more" },
        { "luaactors.vm.memory-limit", o => o.MemoryLimitBytes = 1000, "at least 1MiB" },
        { "luaactors.vm.max-buffered-requests", o => o.MaxBufferedRequests = 0, "1 or more" },
        { "luaactors.vm.messaging.inbox-capacity", o => o.InboxCapacity = -5, "1 or more" },
        { "luaactors.cluster.number-of-shards", o => o.NumberOfShards = 0, "1 or more" },
        { "luaactors.vm.networking.max-sockets", o => o.Networking.MaxSockets = 5000, "from 1 to 1000" },
        { "luaactors.vm.networking.bind-addresses", o => o.Networking.BindAddresses = [], "at least one IP address" },
        { "luaactors.vm.networking.listen-ports", o => o.Networking.ListenPorts = "30000-20000", "docs/configuration.md" },
        { "luaactors.vm.networking.connect", o => o.Networking.Connect = ["10.0.0.1"], "docs/configuration.md" },
        { "luaactors.limits.max-code-size", o => o.Limits.MaxCodeSizeBytes = 0, "1 byte or more" },
        { "luaactors.vm-types.basic.launcher", o => o.Types["basic"] = new VmTypeOptions { Launcher = "fork" }, "spawner or exec-chain" },
        { "luaactors.vm-types.fast.backend", o => o.Types["fast"] = new VmTypeOptions { Backend = "docker" }, "process or xcpng-stub" },
        { "luaactors.vm-types.basic.spare-processes", o => o.Types["basic"] = new VmTypeOptions { SpareProcesses = 65 }, "from 0 to 64" },
        { "luaactors.vm-types.basic.confinement.max-open-files",
            o => o.Types["basic"] = new VmTypeOptions { Confinement = new ConfinementOptions { MaxOpenFiles = 4 } }, "from 8 to 4096" },
        { "luaactors.vm-types", o => o.Types["a b"] = new VmTypeOptions(), "letters, digits" },
        { "LuaActorsOptions.Hocon", o => o.Hocon = "luaactors { vm {", "HOCON" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_value_is_refused_naming_its_key_and_what_it_takes(string key, Action<LuaActorsOptions> set, string allowed)
    {
        var options = new LuaActorsOptions();
        set(options);
        var error = Assert.Throws<LuaActorsConfigurationException>(options.Validate);
        Assert.Equal(key, error.Key);
        Assert.Contains(allowed, error.Message);
        Assert.StartsWith(key + ":", error.Message);
        // Existing catches of Akka's ConfigurationException still see it.
        Assert.IsAssignableFrom<ConfigurationException>(error);
    }

    [Fact]
    public void No_options_are_valid_and_change_nothing()
    {
        var options = new LuaActorsOptions();
        options.Validate();
        Assert.True(options.ToConfig().IsEmpty);
    }

    [Fact]
    public void Properties_win_over_their_own_hocon_which_wins_over_the_defaults()
    {
        var options = new LuaActorsOptions
        {
            DefaultTimeout = TimeSpan.FromSeconds(2),
            MemoryLimitBytes = 32L << 20,
            Networking = { ListenPorts = "31000-31999", Connect = ["10.0.0.0/8:5432", "[::1]:8080-8090"] },
            Limits = { MaxCodeSizeBytes = 512 << 10 },
            Hocon = "luaactors.vm.default-timeout = 9s\nluaactors.vm.kill-grace = 3s",
        };
        options.Types["basic"] = new VmTypeOptions { SpareProcesses = 0, Confinement = new ConfinementOptions { Seccomp = false } };
        options.Types["lua-alt"] = new VmTypeOptions { Backend = "process", Executable = "lua5.4" };
        options.Validate();

        var config = options.ToConfig().WithFallback(LuaActorsConfig.Default);
        var vm = VmSettings.From(config);
        Assert.Equal(TimeSpan.FromSeconds(2), vm.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), vm.KillGrace);
        Assert.Equal(32L << 20, vm.MemoryLimitBytes);
        Assert.Equal((31000, 31999), (vm.Networking.LowPort, vm.Networking.HighPort));
        Assert.Equal(["10.0.0.0/8:5432", "[::1]:8080-8090"], vm.Networking.Connect.Select(c => c.ToString()));
        Assert.Equal(512 << 10, SizeLimits.From(config).MaxCodeSize);
        // A type entry changes only the keys it sets.
        Assert.Equal(0, config.GetInt("luaactors.vm-types.basic.spare-processes"));
        Assert.False(config.GetBoolean("luaactors.vm-types.basic.confinement.seccomp"));
        Assert.True(config.GetBoolean("luaactors.vm-types.basic.confinement.landlock"));
        Assert.Equal("lua5.4", config.GetString("luaactors.vm-types.basic.executable"));
        Assert.Equal("process", config.GetString("luaactors.vm-types.lua-alt.backend"));
        // Keys no option sets keep the defaults.
        Assert.Equal(1000, vm.InboxCapacity);
    }

    [Fact]
    public void The_whole_configuration_is_checked_with_the_key_named()
    {
        var config = ConfigurationFactory.ParseString("luaactors.vm.messaging.send-timeout = 0s").WithFallback(LuaActorsConfig.Default);
        var error = Assert.Throws<LuaActorsConfigurationException>(() => LuaActorsConfigurationException.CheckAll(config));
        Assert.Equal("luaactors.vm.messaging.send-timeout", error.Key);
        Assert.Contains("messaging.send-timeout must be positive", error.Message);
    }
}
