using System.Globalization;
using System.Net;
using System.Text.Json;
using LuaActors.Configuration;
using LuaActors.Networking;

namespace LuaActors.Vm;

/// <summary>
/// A VM's listeners, as its actor keeps book of them: those of the current process that are in
/// the <see cref="VmListeners"/> registry (out they go when the process ends), and those that
/// StartServer opened (host as given, port as bound), which a new process opens again.
/// Plain state: the actor talks to the registry and the VM.
/// </summary>
internal sealed class VmListenerBook
{
    private readonly HashSet<VmListener> _registered = [];
    private readonly List<(string Host, int Port)> _servers = [];

    /// <summary>The StartServer listeners, in the order they were opened.</summary>
    public IReadOnlyList<(string Host, int Port)> Servers => _servers;

    public IReadOnlyCollection<VmListener> Registered => _registered;

    public void Registering(VmListener listener) => _registered.Add(listener);

    /// <summary>Out of the book (the registry refused it, or its process died meanwhile).</summary>
    public void Forget(VmListener listener) => _registered.Remove(listener);

    /// <summary>The VM closed the listener: no longer registered, and not opened again after a restart.</summary>
    public void Closed(VmListener listener)
    {
        _registered.Remove(listener);
        _servers.RemoveAll(s => s.Port == listener.Port);
    }

    /// <summary>The process is gone or was reset: its listeners, to take out of the registry.</summary>
    public IReadOnlyList<VmListener> ForgetAll()
    {
        var all = _registered.ToList();
        _registered.Clear();
        return all;
    }

    public void ServerStarted(string host, int port)
    {
        if (!_servers.Contains((host, port)))
        {
            _servers.Add((host, port));
        }
    }

    /// <summary>A StartServer listener that could not be opened again: dropped.</summary>
    public void ServerLost(int port) => _servers.RemoveAll(s => s.Port == port);

    /// <summary>A reset closed every socket: no StartServer listener is left to restore.</summary>
    public void ClearServers() => _servers.Clear();

    /// <summary>"address port" of a networking call (<c>M net-…</c>); null when malformed.</summary>
    public static (IPAddress Address, int Port)? ParseEndpoint(string name)
    {
        var space = name.LastIndexOf(' ');
        return space > 0
            && NetAddresses.ParseStrict(name[..space]) is { } address
            && int.TryParse(name[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? (address, port)
            : null;
    }

    public static string Show(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    /// <summary>The port a listener reported as its chunk's first value.</summary>
    public static int? BoundPort(string valuesJson)
    {
        using var values = JsonDocument.Parse(valuesJson);
        return values.RootElement.ValueKind == JsonValueKind.Array && values.RootElement.GetArrayLength() > 0
            && values.RootElement[0].TryGetInt32(out var port) ? port : null;
    }
}
