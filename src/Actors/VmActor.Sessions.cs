using Akka.Actor;
using LuaActors.Protocol;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors;

/// <summary>
/// Interactive sessions (docs/api.md, sessions): attached clients, their lines evaluated one at
/// a time through the <see cref="SessionTable"/>, and every session told the VM's story.
/// </summary>
public sealed partial class VmActor
{
    private void OnSessionCommand(ISessionCommand command, IActorRef sender)
    {
        switch (command)
        {
            case AttachSession attach:
                _sessions.Attach(attach.SessionId, sender);
                Context.Watch(sender);
                sender.Tell(new SessionAttached(_vmId, attach.SessionId, _sessions.Ids));
                break;
            case DetachSession detach:
                if (_sessions.Detach(detach.SessionId) is { } lastOfClient)
                {
                    Context.Unwatch(lastOfClient);
                }

                sender.Tell(new SessionDetached(_vmId, detach.SessionId));
                break;
            case SendSessionInput input when _sessions.IsAttached(input.SessionId):
                if (_sessions.Input(input.SessionId, input.Line, sender) is { } evaluation)
                {
                    Evaluate(evaluation);
                }

                break;
            case SendSessionInput input:
                sender.Tell(new RequestFailed(_vmId, ErrorKind.InvalidRequest, $"session '{input.SessionId}' is not attached to VM '{_vmId}'"));
                break;
            case InterruptSession interrupt:
                // Stops the session's chunk if it is in the VM (running or queued there); a no-op otherwise.
                foreach (var pending in _pipeline.SessionInputsOf(interrupt.SessionId))
                {
                    _instance!.Send(HostFrames.Interrupt(pending.Id));
                }

                break;
        }
    }

    private void Evaluate(SessionTable.Evaluation evaluation) =>
        Write(RequestKind.SessionInput, evaluation.Sender, _limits.TimeoutMs,
            id => HostFrames.Eval(id, _limits.TimeoutMs, 0, evaluation.Chunk),
            evaluation.SessionId, evaluation.Chunk);

    private void OnSessionInputEvaluated(PendingRequest request, ILuaActorsMessage reply)
    {
        var (told, toEveryone) = SessionTable.Told(_vmId, request.SessionId!, request.Input!, reply);
        var (client, next) = _sessions.Evaluated(request.SessionId!, request.Input!, incomplete: !toEveryone);
        if (client is null)
        {
            return;
        }

        if (toEveryone)
        {
            TellSessions(told);
        }
        else
        {
            client.Tell(told);
        }

        if (next is { } evaluation)
        {
            Evaluate(evaluation);
        }
    }

    /// <summary>Every session sees the VM's story: everyone's inputs, outputs, restarts.</summary>
    private void TellSessions(ILuaActorsMessage message)
    {
        foreach (var client in _sessions.Clients)
        {
            client.Tell(message);
        }
    }
}
