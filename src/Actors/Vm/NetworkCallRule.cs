using System.Net;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Protocol;

namespace LuaActors.Vm;

/// <summary>What the actor does with a VM's networking call.</summary>
internal enum NetworkAction
{
    /// <summary>Nothing more: the answer is all.</summary>
    Answer,
    /// <summary>Register a listener on the endpoint; the VM hears once the registry has it.</summary>
    Listen,
    /// <summary>Take the endpoint's listener out of the registry (the VM closed it); answered at once.</summary>
    Unlisten,
    /// <summary>Ask the registry whether a VM of the cluster listens on the endpoint.</summary>
    CheckConnect,
}

/// <param name="Answer">What the VM is answered now, if anything.</param>
internal readonly record struct NetworkCallDecision(NetworkAction Action, HostFrame? Answer, IPAddress? Address = null, int Port = 0);

/// <summary>
/// The network rule for one VM's calls (docs/guarantees.md, "The network rule"; docs/protocol.md
/// §11.6): which <c>net-listen</c>, <c>net-unlisten</c> and <c>net-connect</c> are allowed, and
/// what the VM is answered. Plain: the actor talks to the listener registry.
/// </summary>
internal sealed class NetworkCallRule(NetworkingSettings net)
{
    /// <summary>The M ops this rule decides (every other M op is messaging or storage).</summary>
    public static bool Covers(MessageCall call) => call.Op.StartsWith("net-", StringComparison.Ordinal);

    /// <param name="networkingOn">The VM was created with networking.</param>
    public NetworkCallDecision Decide(MessageCall call, bool networkingOn)
    {
        if (!networkingOn || VmListenerBook.ParseEndpoint(call.Name) is not { } endpoint)
        {
            return Refuse(call.Id, $"bad networking call '{call.Op}' ({call.Name})");
        }

        var (address, port) = endpoint;

        return call.Op switch
        {
            // The VM checked this already; a second check costs nothing.
            "net-listen" when !net.MayBind(address, port) =>
                Refuse(call.Id, $"listening on {VmListenerBook.Show(address, port)} is not allowed by luaactors.vm.networking"),
            "net-listen" => new(NetworkAction.Listen, null, address, port),
            "net-unlisten" => new(NetworkAction.Unlisten, HostFrames.AnswerOk(call.Id), address, port),
            "net-connect" when net.ListedEndpoint(address, port) is not null => new(NetworkAction.Answer, HostFrames.AnswerOk(call.Id)),
            "net-connect" => new(NetworkAction.CheckConnect, null, address, port),
            _ => Refuse(call.Id, $"unknown networking call '{call.Op}'"),
        };
    }

    /// <summary>The answer to a net-connect the registry checked.</summary>
    public static HostFrame Connect(uint callId, IPAddress address, int port, bool listening) => listening
        ? HostFrames.AnswerOk(callId)
        : HostFrames.AnswerError(callId, $"connection not allowed: {VmListenerBook.Show(address, port)} is neither a listener a VM of this cluster opened nor listed in luaactors.vm.networking.connect");

    public static HostFrame ConnectUnchecked(uint callId, Exception error) =>
        HostFrames.AnswerError(callId, $"connection not checked: the listener registry failed: {error.GetBaseException().Message}");

    /// <summary>The answer to a net-listen once the registry answered: on a failure the VM closes the listener (nobody could reach it).</summary>
    public static HostFrame Listened(uint callId, string? failure) =>
        failure is null ? HostFrames.AnswerOk(callId) : HostFrames.AnswerError(callId, "the listener registry failed: " + failure);

    /// <summary>Why a StartServer cannot be done, or null.</summary>
    public static string? StartServerProblem(bool networkingOn, StartServer start) =>
        !networkingOn ? "networking is off for this VM: create it with VmOptions.Networking = true"
        : start.Port is < 0 or > 65535 || string.IsNullOrEmpty(start.Host) ? "StartServer needs a host and a port 0-65535"
        : null;

    private static NetworkCallDecision Refuse(uint callId, string message) => new(NetworkAction.Answer, HostFrames.AnswerError(callId, message));
}
