using LuaActors.Messages;

namespace LuaActors.Api;

public sealed partial class VmManager
{
    /// <summary>Asks the VM's actor to open (and remember) a listener; see <see cref="StartServer"/>.</summary>
    internal Task<ServerStarted> StartServerCoreAsync(string vmId, string host, int port, CancellationToken cancellationToken) =>
        AskAsync<ServerStarted>(new StartServer(vmId, host, port), _defaultTimeout + _askTimeout, cancellationToken);
}
