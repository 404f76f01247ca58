using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Protocol;

namespace LuaActors.Storage;

internal enum StorageWaitKind
{
    /// <summary>A Lua call that reads: answered with the value's JSON (null: nil).</summary>
    LuaRead,
    /// <summary>A Lua call that writes: answered with an empty ok (true) once durable.</summary>
    LuaWrite,
    /// <summary>C#'s GetStorage.</summary>
    Reader,
    /// <summary>The VM's removal, which goes on once the storage is deleted.</summary>
    Eraser,
}

/// <summary>One call waiting for the <see cref="StorageActor"/>; a Lua call remembers its process <see cref="Generation"/>.</summary>
internal sealed record StorageWait(StorageWaitKind Kind, int Generation, uint CallId, IActorRef? ReplyTo, RequestFailed? CreationFailure = null);

/// <summary>What a <c>vm.storage</c> call becomes: an answer to the VM now, or a request to the storage actor (built with its id).</summary>
internal readonly record struct StorageCallPlan(HostFrame? AnswerNow, StorageWaitKind Kind, Func<long, object>? Request);

/// <summary>What a failed wait means: a frame for the process that asked, an answer for C#, and whether the spec goes anyway.</summary>
internal readonly record struct StorageWaitFailure(HostFrame? ToProcess, RequestFailed? ToReplyTo, bool RemoveSpecAnyway);

/// <summary>
/// The calls of one VM that wait for its storage actor, by request id (docs/storage.md): which
/// call each is, what its answer or its failure becomes, and whether the VM's removal is erasing
/// the storage (then writes are refused, so nothing outlives the VM). Plain state: the actor
/// talks to the storage actor and the process.
/// </summary>
internal sealed class StorageWaits(string vmId)
{
    private readonly Dictionary<long, StorageWait> _waits = [];
    private long _lastId;

    /// <summary>Set while the removal deletes the storage; cleared when the deletion fails and the VM stays.</summary>
    public bool Erasing { get; private set; }

    public int Count => _waits.Count;

    /// <summary>The removal begins (its durable links go first): storage writes are refused from now on.</summary>
    public void BeginErasing() => Erasing = true;

    /// <summary>Keeps <paramref name="wait"/> under a new request id.</summary>
    public long Add(StorageWait wait)
    {
        Erasing |= wait.Kind == StorageWaitKind.Eraser;
        var id = ++_lastId;
        _waits[id] = wait;
        return id;
    }

    public StorageWait? Take(long requestId) => _waits.Remove(requestId, out var wait) ? wait : null;

    /// <summary>Every wait, oldest first, and none left (the storage actor stopped or the journal failed).</summary>
    public IReadOnlyList<StorageWait> TakeAll()
    {
        var all = _waits.OrderBy(w => w.Key).Select(w => w.Value).ToList();
        _waits.Clear();
        return all;
    }

    /// <summary>A <c>vm.storage</c> call of the running process: refused now, or what to ask the storage actor.</summary>
    public StorageCallPlan Plan(StorageCall call)
    {
        if (Erasing)
        {
            return Answer(HostFrames.StorageError(call.Id, StorageActor.UnavailableKind, $"VM '{vmId}' is being removed"));
        }

        switch (call.Op)
        {
            case StorageOp.Get when call.Key.Length > 0:
                return new(null, StorageWaitKind.LuaRead, id => new StorageActor.Read(id, call.Key));
            case StorageOp.Keys:
                return new(null, StorageWaitKind.LuaRead, id => new StorageActor.ListKeys(id, call.Key));
            case StorageOp.Set when call.Key.Length > 0 && call.ValueJson.Length > 0:
                return new(null, StorageWaitKind.LuaWrite, id => new StorageActor.Write(id, [new StorageChange(call.Key, call.ValueJson)]));
            case StorageOp.Delete when call.Key.Length > 0:
                return new(null, StorageWaitKind.LuaWrite, id => new StorageActor.Write(id, [new StorageChange(call.Key, null)]));
            case StorageOp.Commit:
                var changes = StorageCalls.ParseCommit(call.ValueJson, out var problem);
                return changes is null ? Answer(HostFrames.StorageError(call.Id, "storage-invalid", problem!))
                    : changes.Count == 0 ? Answer(HostFrames.AnswerOk(call.Id))
                    : new(null, StorageWaitKind.LuaWrite, id => new StorageActor.Write(id, changes));
            default:
                return Answer(HostFrames.StorageError(call.Id, "storage-invalid",
                    $"a {call.Op.WireName()} call needs a key{(call.Op == StorageOp.Set ? " and a value" : "")}"));
        }
    }

    /// <summary>The storage actor's answer to a Lua call, as the frame for its process (null for the other kinds).</summary>
    public static HostFrame? Answered(StorageWait wait, string? json) => wait.Kind switch
    {
        StorageWaitKind.LuaRead => HostFrames.StorageAnswer(wait.CallId, json),
        StorageWaitKind.LuaWrite => HostFrames.AnswerOk(wait.CallId),
        _ => null,
    };

    /// <summary>What a wait that failed (<paramref name="kind"/>: the storage error kind) is answered.</summary>
    public StorageWaitFailure Failed(StorageWait wait, string kind, string message)
    {
        switch (wait.Kind)
        {
            case StorageWaitKind.LuaRead or StorageWaitKind.LuaWrite:
                return new(HostFrames.StorageError(wait.CallId, kind, message), null, false);
            case StorageWaitKind.Reader:
                return new(null, new RequestFailed(vmId, ErrorKind.StorageUnavailable, $"the storage of VM '{vmId}' cannot be read: {message}"), false);
            case StorageWaitKind.Eraser when wait.CreationFailure is not null:
                // The VM was never created: the spec goes whatever happens to the storage.
                return new(null, null, true);
            default:
                // Nothing was removed: the VM keeps running, with its storage, and the remover hears why.
                Erasing = false;
                return new(null, new RequestFailed(vmId, ErrorKind.StorageUnavailable,
                    $"VM '{vmId}' was not removed: its storage could not be deleted: {message}"), false);
        }
    }

    private static StorageCallPlan Answer(HostFrame frame) => new(frame, default, null);
}
