using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Akka.Configuration;
using LuaActors.Protocol;

namespace LuaActors.Configuration;

/// <summary>An operator-listed endpoint a VM may connect to: an address block and a port range.</summary>
public sealed record ConnectEntry(IPAddress Network, int PrefixLength, int LowPort, int HighPort)
{
    public bool Matches(IPAddress address, int port) =>
        port >= LowPort && port <= HighPort && NetAddresses.InBlock(address, Network, PrefixLength);

    public override string ToString()
    {
        var full = Network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var block = PrefixLength == full ? Network.ToString() : $"{Network}/{PrefixLength}";
        if (Network.AddressFamily == AddressFamily.InterNetworkV6)
        {
            block = "[" + block + "]";
        }

        return LowPort == HighPort ? $"{block}:{LowPort}" : $"{block}:{LowPort}-{HighPort}";
    }
}

/// <summary>
/// <c>luaactors.vm.networking</c>: the network rule of VMs created with networking on
/// (docs/guarantees.md, "The network rule"). A VM binds only <see cref="BindAddresses"/> on a
/// port of <see cref="LowPort"/>-<see cref="HighPort"/>, and connects only to listeners that VMs
/// of this cluster opened, or to a <see cref="Connect"/> entry.
/// </summary>
public sealed record NetworkingSettings(
    IReadOnlyList<IPAddress> BindAddresses,
    int LowPort,
    int HighPort,
    IReadOnlyList<ConnectEntry> Connect,
    int MaxSockets)
{
    public static NetworkingSettings From(Config vm)
    {
        var bind = Parse("bind-addresses", vm.GetString("networking.bind-addresses", ""), ParseBindAddress);
        var ports = vm.GetString("networking.listen-ports", "").Trim();
        var range = ParsePortRange(ports)
            ?? throw Bad($"networking.listen-ports \"{ports}\" is not a port range such as 20000-29999 (ports 1-65535)");
        var connect = Parse("connect", vm.GetString("networking.connect", ""), ParseConnectEntry);
        var maxSockets = vm.GetInt("networking.max-sockets");
        if (bind.Count == 0)
        {
            throw Bad("networking.bind-addresses must list at least one address");
        }

        if (maxSockets is <= 0 or > 1000)
        {
            throw Bad("networking.max-sockets must be between 1 and 1000");
        }

        return new NetworkingSettings(bind, range.Low, range.High, connect, maxSockets);
    }

    /// <summary>What the <c>L</c> frame of a networking VM sends (docs/protocol.md §11.2).</summary>
    public NetLimits WireLimits() => new(BindAddresses.Select(NetAddresses.Canonical).ToList(), LowPort, HighPort, MaxSockets);

    public bool InListenPorts(int port) => port >= LowPort && port <= HighPort;

    public bool MayBind(IPAddress address, int port) => InListenPorts(port) && BindAddresses.Contains(address);

    /// <summary>The <c>connect</c> entry that lets a VM dial <paramref name="address"/>:<paramref name="port"/>, or null.</summary>
    public ConnectEntry? ListedEndpoint(IPAddress address, int port) => Connect.FirstOrDefault(e => e.Matches(address, port));

    private static ConfigurationException Bad(string message) => new("luaactors.vm: " + message);

    private static List<T> Parse<T>(string key, string text, Func<string, T?> parse)
        where T : class
    {
        var items = new List<T>();
        foreach (var raw in text.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                continue;
            }

            items.Add(parse(item) ?? throw Bad($"networking.{key} entry \"{item}\" is not {Expected(key)}"));
        }

        return items;
    }

    private static string Expected(string key) => key == "connect"
        ? "address[/prefix]:port[-port] (IPv4 as four decimal numbers 0-255, IPv6 in brackets: [::1]:8080)"
        : "an IPv4 address (four decimal numbers 0-255, no leading zeros) or an IPv6 address";

    private static IPAddress? ParseBindAddress(string item) => NetAddresses.ParseStrict(item);

    private static (int Low, int High)? ParsePortRange(string text)
    {
        var match = Regex.Match(text, "^([0-9]{1,5})(?:-([0-9]{1,5}))?$", RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            return null;
        }

        var low = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var high = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : low;
        return low is >= 1 and <= 65535 && high is >= 1 and <= 65535 && low <= high ? (low, high) : null;
    }

    private static ConnectEntry? ParseConnectEntry(string item)
    {
        string block, ports;
        if (item.StartsWith('['))
        {
            var close = item.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            block = item[1..close];
            ports = item[(close + 2)..];
        }
        else
        {
            var colon = item.LastIndexOf(':');
            if (colon < 0 || item.IndexOf(':') != colon)
            {
                return null;
            }

            block = item[..colon];
            ports = item[(colon + 1)..];
        }

        var slash = block.IndexOf('/');
        var address = NetAddresses.ParseStrict(slash < 0 ? block : block[..slash]);
        if (address is null || ParsePortRange(ports) is not { } range)
        {
            return null;
        }

        var full = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = full;
        if (slash >= 0 && (!int.TryParse(block[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > full))
        {
            return null;
        }

        return new ConnectEntry(NetAddresses.Mask(address, prefix), prefix, range.Low, range.High);
    }
}

/// <summary>
/// Addresses as the VM host script reads them (vmhost.lua's canonical()): one spelling per
/// address. IPv4 is four decimal numbers 0-255 without leading zeros (no octal, hex or short
/// forms, which inet_aton would read differently); IPv6 without zone ids or embedded IPv4.
/// </summary>
public static class NetAddresses
{
    private static readonly Regex Dotted = new("^(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})$",
        RegexOptions.CultureInvariant);

    public static IPAddress? ParseStrict(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal))
        {
            var ok = text.All(c => char.IsAsciiHexDigit(c) || c == ':')
                && IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !v6.IsIPv4MappedToIPv6
                && !IsIpv4Compatible(v6);
            return ok ? IPAddress.Parse(text) : null;
        }

        var match = Dotted.Match(text);
        return match.Success && Enumerable.Range(1, 4).All(i => int.Parse(match.Groups[i].Value, CultureInfo.InvariantCulture) <= 255)
            ? IPAddress.Parse(text)
            : null;
    }

    // ::a.b.c.d (deprecated): refused like the mapped form, by both parsers. :: and ::1 are not such.
    private static bool IsIpv4Compatible(IPAddress v6)
    {
        var bytes = v6.GetAddressBytes();
        return bytes.Take(12).All(b => b == 0) && !v6.Equals(IPAddress.IPv6Any) && !v6.Equals(IPAddress.IPv6Loopback);
    }

    /// <summary>The text the VM uses for <paramref name="address"/> (RFC 5952 for IPv6, like .NET's).</summary>
    public static string Canonical(IPAddress address) => address.ToString();

    public static bool IsLoopbackOrAny(IPAddress address) =>
        IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    public static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    public static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - bits));
        }

        return new IPAddress(bytes);
    }

    public static bool InBlock(IPAddress address, IPAddress network, int prefix) =>
        address.AddressFamily == network.AddressFamily && Mask(address, prefix).Equals(network);
}
