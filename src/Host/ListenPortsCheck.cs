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
    public static void Validate(Config nodeConfig, int httpPort)
    {
        var networking = NetworkingSettings.From(nodeConfig.WithFallback(LuaActorsConfig.Default).GetConfig("luaactors.vm"));
        var remotingPort = nodeConfig.GetInt("akka.remote.dot-netty.tcp.port", 0);
        foreach (var (what, port) in new[] { ("HTTP API", httpPort), ("cluster (remoting)", remotingPort) })
        {
            if (port != 0 && networking.InListenPorts(port))
            {
                throw new NodeOptionsException(
                    $"the {what} port {port} lies inside luaactors.vm.networking.listen-ports ({networking.LowPort}-{networking.HighPort}), " +
                    "the ports VMs listen on: choose a port outside it, or move the range");
            }
        }
    }
}
