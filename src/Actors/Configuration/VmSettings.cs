using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
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
    string NetworkAllow,
    int MaxSockets)
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
            vm.GetString("networking.allow", "").Trim(),
            vm.GetInt("networking.max-sockets"));
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
        Require(NetworkAllow.Length > 0, "networking.allow must list addresses, CIDR blocks or \"*\", comma-separated");
        if (BadAllowEntry(NetworkAllow) is { } bad)
        {
            throw new ConfigurationException(
                $"luaactors.vm: networking.allow entry \"{bad}\" is not an IPv4 address, an IPv4 CIDR block (a.b.c.d/0-32), an IPv6 address or \"*\"");
        }

        Require(MaxSockets is > 0 and <= 1000, "networking.max-sockets must be between 1 and 1000");
    }

    /// <summary>
    /// The first entry of the allow list that the VM could not parse (vmhost.lua's parse_allow,
    /// which reads it from one line of the L frame), or null when every entry is good: "*", an
    /// IPv4 address (each part 0-255) with an optional /0-32, or an IPv6 address, matched exactly.
    /// Empty items between commas are skipped, as the VM does.
    /// </summary>
    internal static string? BadAllowEntry(string allow)
    {
        foreach (var item in allow.Split(','))
        {
            if (item.Length == 0)
            {
                continue;
            }

            var entry = item.Trim(' ');
            var good = entry == "*" || (entry.Contains(':', StringComparison.Ordinal)
                ? IsIpv6(entry)
                : IsIpv4Block(entry));
            if (!good)
            {
                return entry;
            }
        }

        return null;
    }

    private static bool IsIpv4Block(string entry)
    {
        var match = Regex.Match(entry, "^([0-9]+)\\.([0-9]+)\\.([0-9]+)\\.([0-9]+)(?:/([0-9]+))?$", RegexOptions.CultureInvariant);
        return match.Success
            && Enumerable.Range(1, 4).All(i => InRange(match.Groups[i].Value, 255))
            && (!match.Groups[5].Success || InRange(match.Groups[5].Value, 32));
    }

    private static bool InRange(string digits, int max) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= max;

    // The VM compares the text with the address a socket names: hex digits, ':' and '.' only.
    private static bool IsIpv6(string entry) =>
        entry.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
        && IPAddress.TryParse(entry, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
}
