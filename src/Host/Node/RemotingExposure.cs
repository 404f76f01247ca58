using System.Net;
using System.Net.Sockets;
using Akka.Configuration;

namespace LuaActors.Host;

/// <summary>
/// Whether the node's cluster port (Akka.Remote) is reachable beyond this machine without TLS.
/// That port has no authentication of its own: whoever reaches it can join the cluster and run
/// code in every VM. The node starts anyway (a private network is a fine answer) but says so.
/// </summary>
internal static class RemotingExposure
{
    /// <summary>The warning to print at start-up, or null when the port is loopback-only or TLS is on.</summary>
    public static string? Warning(NodeSettings settings)
    {
        var tcp = settings.Hocon.GetConfig("akka.remote.dot-netty.tcp") ?? Config.Empty;
        if (tcp.GetBoolean("enable-ssl", false))
        {
            return null;
        }

        // The socket listens on bind-hostname when one is set (a node behind NAT advertises
        // hostname but binds elsewhere, e.g. 0.0.0.0), else on hostname.
        var bindHostname = tcp.GetString("bind-hostname", "") ?? "";
        var hostname = bindHostname.Length > 0 ? bindHostname : settings.Hostname;
        if (IsLoopback(hostname))
        {
            return null;
        }

        var shown = hostname.Length == 0 ? "every address" : hostname;
        return $"WARNING: the cluster port ({shown}:{settings.Port}) is reachable beyond this machine, " +
            "unauthenticated and unencrypted: anyone who can connect to it can join the cluster and run code in its VMs. " +
            "Keep it on a private network (firewall it to the cluster's nodes), or turn on TLS with " +
            "akka.remote.dot-netty.tcp.enable-ssl = on and a certificate (docs/guarantees.md, \"The cluster port\").";
    }

    private static bool IsLoopback(string hostname)
    {
        if (hostname.Length == 0)
        {
            return false;
        }

        if (hostname.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (IPAddress.TryParse(hostname.Trim('[', ']'), out var address))
        {
            return IPAddress.IsLoopback(address);
        }

        try
        {
            // A name is loopback-only when every address it resolves to is.
            var addresses = Dns.GetHostAddresses(hostname);
            return addresses.Length > 0 && addresses.All(IPAddress.IsLoopback);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
