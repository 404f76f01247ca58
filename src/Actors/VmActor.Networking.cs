using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using LuaActors.Protocol;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Networking;
using LuaActors.Persistence;
using LuaActors.Process;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// The C# half of the network rule (docs/guarantees.md, "The network rule"; docs/protocol.md
/// §11.6): the VM's listeners in the <see cref="VmListeners"/> registry, the answer to every
/// networking call of the VM (decided by the <see cref="NetworkCallRule"/>), and the listeners
/// <see cref="StartServer"/> opened, which a process restart opens again (like the init script runs again).
/// </summary>
public sealed partial class VmActor
{
    /// <summary>The registry has the listener; answer the VM's net-listen, unless its process is gone by now.</summary>
    private sealed record ListenerRegistered(int Generation, VmListener Listener, uint CallId, string? Failure = null);

    private readonly VmListenerBook _listeners = new();
    private readonly NetworkCallRule _networkRule;

    private VmListeners Listeners => VmListeners.Get(Context.System);

    private void ReceiveNetworking() =>
        Receive<ListenerRegistered>(registered =>
        {
            if (registered.Generation == _generation && _instance is not null)
            {
                _instance.Send(NetworkCallRule.Listened(registered.CallId, registered.Failure));
            }

            if (registered.Failure is not null || registered.Generation != _generation || _instance is null)
            {
                // Refused, or the process died while the registry took it: the listener is gone with it.
                _listeners.Forget(registered.Listener);
                _ = Listeners.RemoveAsync(registered.Listener);
            }
        });

    /// <summary>The VM's net-listen / net-unlisten / net-connect calls (M frames); false for any other call.</summary>
    private bool OnNetworkCall(MessageCall call)
    {
        if (!NetworkCallRule.Covers(call))
        {
            return false;
        }

        var decision = _networkRule.Decide(call, _spec!.Networking);
        var generation = _generation;
        var endpoint = decision.Address is { } address ? new VmListener(_vmId, Listeners.Node, Listeners.Host, address, decision.Port) : null;
        switch (decision.Action)
        {
            case NetworkAction.Listen:
                _listeners.Registering(endpoint!);
                Listeners.AddAsync(endpoint!).PipeTo(Self,
                    success: () => new ListenerRegistered(generation, endpoint!, call.Id),
                    failure: error => new ListenerRegistered(generation, endpoint!, call.Id, error.GetBaseException().Message));
                break;
            case NetworkAction.Unlisten:
                _listeners.Closed(endpoint!);
                _wiring.Note(Context, new WiringServerStopped(decision.Port));
                _ = Listeners.RemoveAsync(endpoint!);
                break;
            case NetworkAction.CheckConnect:
                Listeners.IsListenerAsync(endpoint!.Address, endpoint.Port).PipeTo(Self,
                    success: found => new MessageCallAnswered(generation, NetworkCallRule.Connect(call.Id, endpoint.Address, endpoint.Port, found)),
                    failure: error => new MessageCallAnswered(generation, NetworkCallRule.ConnectUnchecked(call.Id, error)));
                break;
        }

        SendToVm(decision.Answer);
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
        if (NetworkCallRule.StartServerProblem(_spec!.Networking, start) is { } problem)
        {
            sender.Tell(_answers.Invalid(problem));
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

    /// <summary>A StartServer listener that a new process could not open again (its start-up's RestoreServer request).</summary>
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
