using System.Globalization;
using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using LuaActors.Protocol;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Messaging;
using LuaActors.Networking;
using LuaActors.Persistence;
using LuaActors.Process;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// The C# half of the network rule (docs/guarantees.md, "The network rule"; docs/protocol.md
/// §11.6): the VM's listeners in the <see cref="VmListeners"/> registry, the answer to every
/// connect of the VM, and the listeners <see cref="StartServer"/> opened, which a process
/// restart opens again (like the init script runs again).
/// </summary>
public sealed partial class VmActor
{
    /// <summary>The registry has the listener; answer the VM's net-listen, unless its process is gone by now.</summary>
    private sealed record ListenerRegistered(int Generation, VmListener Listener, uint CallId, string? Failure = null);

    private readonly VmListenerBook _listeners = new();

    private VmListeners Listeners => VmListeners.Get(Context.System);

    private NetworkingSettings Net => _settings.Networking;

    private void ReceiveNetworking() =>
        Receive<ListenerRegistered>(registered =>
        {
            if (registered.Generation == _generation && _instance is not null && registered.Failure is null)
            {
                _instance.Send(HostFrames.AnswerOk(registered.CallId));
                return;
            }

            if (registered.Generation == _generation && _instance is not null)
            {
                // The VM closes the listener: nobody could reach it.
                _instance.Send(HostFrames.AnswerError(registered.CallId, "the listener registry failed: " + registered.Failure));
            }

            // (Or the process died while the registry took it: the listener is gone with it.)
            _listeners.Forget(registered.Listener);
            _ = Listeners.RemoveAsync(registered.Listener);
        });

    /// <summary>The VM's net-listen / net-unlisten / net-connect calls (M frames); false for any other call.</summary>
    private bool OnNetworkCall(MessageCall call)
    {
        if (!call.Op.StartsWith("net-", StringComparison.Ordinal))
        {
            return false;
        }

        if (!_spec!.Networking || VmListenerBook.ParseEndpoint(call.Name) is not { } endpoint)
        {
            _instance!.Send(HostFrames.AnswerError(call.Id, $"bad networking call '{call.Op}' ({call.Name})"));
            return true;
        }

        var (address, port) = endpoint;
        var generation = _generation;
        switch (call.Op)
        {
            case "net-listen" when !Net.MayBind(address, port):
                // The VM checked this already; a second check costs nothing.
                _instance!.Send(HostFrames.AnswerError(call.Id, $"listening on {VmListenerBook.Show(address, port)} is not allowed by luaactors.vm.networking"));
                break;
            case "net-listen":
                var listener = new VmListener(_vmId, Listeners.Node, Listeners.Host, address, port);
                _listeners.Registering(listener);
                Listeners.AddAsync(listener).PipeTo(Self,
                    success: () => new ListenerRegistered(generation, listener, call.Id),
                    failure: error => new ListenerRegistered(generation, listener, call.Id, error.GetBaseException().Message));
                break;
            case "net-unlisten":
                var closed = new VmListener(_vmId, Listeners.Node, Listeners.Host, address, port);
                _listeners.Closed(closed);
                _wiring.Note(Context, new WiringServerStopped(port));
                _ = Listeners.RemoveAsync(closed);
                _instance!.Send(HostFrames.AnswerOk(call.Id));
                break;
            case "net-connect" when Net.ListedEndpoint(address, port) is not null:
                _instance!.Send(HostFrames.AnswerOk(call.Id));
                break;
            case "net-connect":
                Listeners.IsListenerAsync(address, port).PipeTo(Self,
                    success: found => new MessageCallAnswered(generation, found
                        ? HostFrames.AnswerOk(call.Id)
                        : HostFrames.AnswerError(call.Id, $"connection not allowed: {VmListenerBook.Show(address, port)} is neither a listener a VM of this cluster opened nor listed in luaactors.vm.networking.connect")),
                    failure: error => new MessageCallAnswered(generation,
                        HostFrames.AnswerError(call.Id, $"connection not checked: the listener registry failed: {error.GetBaseException().Message}")));
                break;
            default:
                _instance!.Send(HostFrames.AnswerError(call.Id, $"unknown networking call '{call.Op}'"));
                break;
        }

        return true;
    }

    /// <summary>The process is gone or was reset: its listeners are closed, so out of the registry they go.</summary>
    private void ForgetListeners()
    {
        foreach (var listener in _listeners.ForgetAll())
        {
            _ = Listeners.RemoveAsync(listener);
        }
    }

    private void StartServerInVm(StartServer start, IActorRef sender)
    {
        if (!_spec!.Networking)
        {
            sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, "networking is off for this VM: create it with VmOptions.Networking = true"));
            return;
        }

        if (start.Port is < 0 or > 65535 || string.IsNullOrEmpty(start.Host))
        {
            sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, "StartServer needs a host and a port 0-65535"));
            return;
        }

        Write(RequestKind.Serve, sender, _limits.TimeoutMs,
            id => HostFrames.Execute(id, _limits.TimeoutMs, 0, VmNetworking.ServeCode(start.Host, start.Port)), input: start.Host);
    }

    private void OnServeReply(PendingRequest request, ILuaActorsMessage reply)
    {
        if (reply is Executed executed && VmListenerBook.BoundPort(executed.ValuesJson) is { } port)
        {
            // Answered once durable; if the journal does not take it, the listener is closed again.
            _wiring.Change(Context, new WiringServerStarted(request.Input!, port), () =>
            {
                _listeners.ServerStarted(request.Input!, port);
                request.ReplyTo.Tell(new ServerStarted(_vmId, port));
            }, problem =>
            {
                if (_instance is not null)
                {
                    Write(RequestKind.Execute, ActorRefs.Nobody, _limits.TimeoutMs, id => HostFrames.Execute(id, _limits.TimeoutMs, 0, VmNetworking.StopCode(port)));
                }

                request.ReplyTo.Tell(_wiring.Unavailable($"the listener on port {port}", problem));
            });
            return;
        }

        request.ReplyTo.Tell(reply as RequestFailed
            ?? new RequestFailed(_vmId, ErrorKind.Runtime, "the listener did not report its port"));
    }

    /// <summary>After the init script of a new process: the StartServer listeners, on their ports.</summary>
    private void RestoreServers()
    {
        foreach (var (host, port) in _listeners.Servers)
        {
            Write(RequestKind.RestoreServer, Self, _limits.TimeoutMs,
                id => HostFrames.Execute(id, _limits.TimeoutMs, 0, VmNetworking.ServeCode(host, port)), input: port.ToString(CultureInfo.InvariantCulture));
        }
    }

    private void OnServerRestored(PendingRequest request, ILuaActorsMessage reply)
    {
        if (reply is Executed)
        {
            return;
        }

        // Not a reason to fail the VM: the listener is dropped, and the host hears why.
        var port = int.Parse(request.Input!, CultureInfo.InvariantCulture);
        _listeners.ServerLost(port);
        _wiring.Note(Context, new WiringServerStopped(port));
        var why = reply is RequestFailed failed ? $"{failed.Kind}: {failed.Message}" : "no port";
        _log.Warning("VM {0}: the listener on port {1} was not opened again after a restart: {2}", _vmId, port, why);
        TellHost(JsonSerializer.Serialize(new Dictionary<string, object> { ["server"] = port, ["closed"] = "not restored after a restart: " + why }));
    }

    /// <summary>A value for the VM's owner (ReceiveFromVmAsync), as if the VM had sent it to '$host' (dropped when full).</summary>
    private void TellHost(string json) => OfferToHost(json);
}
