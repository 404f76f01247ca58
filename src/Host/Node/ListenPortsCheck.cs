using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Host;

/// <summary>
/// The node's own ports must lie outside <c>luaactors.vm.networking.listen-ports</c>: VMs may
/// bind those ports (and the kernel confinement lets VMs connect to them), so a VM could take the
/// node's HTTP or remoting port while the node is down and pose as the node.
/// </summary>
internal static class ListenPortsCheck
{
    public static void Validate(NodeSettings settings)
    {
        NetworkingSettings networking;
        try
        {
            networking = NetworkingSettings.From(settings.Hocon.WithFallback(LuaActorsConfig.Default).GetConfig("luaactors.vm"));
        }
        catch (ConfigurationException e)
        {
            throw new NodeOptionsException(e.Message);
        }

        var management = settings.Discovery.Method == DiscoveryMethod.None ? 0 : settings.Discovery.ManagementPort;
        foreach (var (what, port) in new[] { ("HTTP API", settings.Http.Port), ("cluster (remoting)", settings.Port), ("management", management) })
        {
            if (what == "management" && port != 0 && (port == settings.Http.Port || port == settings.Port))
            {
                throw new NodeOptionsException($"--management-port {port} is the node's HTTP API or cluster port: give it a port of its own");
            }

            if (port != 0 && networking.InListenPorts(port))
            {
                throw new NodeOptionsException(
                    $"the {what} port {port} lies inside luaactors.vm.networking.listen-ports ({networking.LowPort}-{networking.HighPort}), " +
                    "the ports VMs listen on: choose a port outside it, or move the range");
            }
        }
    }
}
