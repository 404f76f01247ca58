using Akka.Configuration;

namespace LuaActors.Configuration;

/// <summary>The <c>luaactors.vm</c> section, read once per actor system.</summary>
public sealed record VmSettings(
    TimeSpan DefaultTimeout,
    TimeSpan KillGrace,
    TimeSpan DeadlineCheckInterval,
    long MemoryLimitBytes,
    long AddressSpaceHeadroomBytes,
    long OutputCapBytes,
    long StringRepCapBytes,
    int MaxBufferedRequests,
    TimeSpan RestartBaseBackoff,
    TimeSpan RestartMaxBackoff,
    int MaxRestarts,
    TimeSpan RestartWindow,
    TimeSpan ListTimeout,
    int InboxCapacity,
    TimeSpan SendTimeout,
    NetworkingSettings Networking)
{
    public static VmSettings From(Config config)
    {
        var vm = config.GetConfig("luaactors.vm")
            ?? throw new ConfigurationException("Missing luaactors.vm section (is hocon/luaactors.conf the fallback?).");
        var restart = vm.GetConfig("restart");
        var settings = new VmSettings(
            vm.GetTimeSpan("default-timeout"),
            vm.GetTimeSpan("kill-grace"),
            vm.GetTimeSpan("deadline-check-interval"),
            Size(vm, "memory-limit"),
            Size(vm, "address-space-headroom"),
            Size(vm, "output-cap"),
            Size(vm, "string-rep-cap"),
            vm.GetInt("max-buffered-requests"),
            restart.GetTimeSpan("base-backoff"),
            restart.GetTimeSpan("max-backoff"),
            restart.GetInt("max-restarts"),
            restart.GetTimeSpan("within"),
            config.GetTimeSpan("luaactors.manager.list-timeout"),
            vm.GetInt("messaging.inbox-capacity"),
            vm.GetTimeSpan("messaging.send-timeout"),
            NetworkingSettings.From(vm));
        settings.Validate();
        return settings;
    }

    private static long Size(Config config, string key) =>
        config.GetByteSize(key) ?? throw new ConfigurationException($"luaactors.vm.{key} must be a size such as 64MiB.");

    private void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ConfigurationException("luaactors.vm: " + message);
            }
        }

        Require(DefaultTimeout > TimeSpan.Zero, "default-timeout must be positive");
        Require(KillGrace >= TimeSpan.Zero, "kill-grace must not be negative");
        Require(DeadlineCheckInterval > TimeSpan.Zero, "deadline-check-interval must be positive");
        Require(MemoryLimitBytes >= 1 << 20, "memory-limit must be at least 1MiB");
        Require(OutputCapBytes >= 0 && StringRepCapBytes > 0, "output-cap and string-rep-cap must be positive");
        Require(MaxBufferedRequests > 0 && MaxRestarts >= 0, "max-buffered-requests and restart.max-restarts must be positive");
        Require(InboxCapacity > 0, "messaging.inbox-capacity must be positive");
        Require(SendTimeout > TimeSpan.Zero, "messaging.send-timeout must be positive");
    }
}
