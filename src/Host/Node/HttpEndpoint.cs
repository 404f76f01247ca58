using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LuaActors.Host;

/// <summary>An HTTP listen address, ADDRESS:PORT: an IPv4 address, [IPv6], localhost or a host name.</summary>
internal sealed record HttpEndpoint(IPAddress Address, int Port)
{
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>The endpoint as a URL a client on this machine can use (an "any" address becomes loopback).</summary>
    public static Uri ClientUrl(IPAddress address, int port)
    {
        var host = address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : address;
        var text = host.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host.ToString();
        return new Uri($"http://{text}:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public static HttpEndpoint Parse(string text)
    {
        var value = text.Trim();
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            value = value["http://".Length..].TrimEnd('/');
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw new NodeOptionsException($"the HTTP address '{text}' is not ADDRESS:PORT (e.g. 127.0.0.1:5080)");
        }

        var host = value[..colon];
        if (!int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new NodeOptionsException($"the HTTP port in '{text}' must be a number from 0 to 65535");
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return new HttpEndpoint(address, port);
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new HttpEndpoint(IPAddress.Loopback, port);
        }

        try
        {
            var resolved = Dns.GetHostAddresses(host);
            var chosen = resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved.FirstOrDefault();
            return chosen is not null
                ? new HttpEndpoint(chosen, port)
                : throw new NodeOptionsException($"the HTTP host '{host}' has no address");
        }
        catch (SocketException e)
        {
            throw new NodeOptionsException($"the HTTP host '{host}' does not resolve: {e.Message}");
        }
    }
}
