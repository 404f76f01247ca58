using Akka.Actor;
using Akka.Event;
using LuaActors.Messages;
using LuaActors.Protocol;
using LuaActors.Storage;

namespace LuaActors;

/// <summary>
/// The C# half of <c>vm.storage</c> (docs/storage.md, docs/protocol.md §11.9): the VM's
/// <see cref="StorageActor"/> child, started at the first storage call (and again after the
/// journal failed), the VM's storage calls and C#'s <see cref="GetStorage"/>, and the erasure of
/// the storage when the VM is removed. Every call waits for the child's answer in
/// <see cref="_storageWaits"/>; when the child stops (the journal failed), whatever waits fails
/// with storage-unavailable at once.
/// </summary>
public sealed partial class VmActor
{
    private enum StorageWaitKind
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

    private sealed record StorageWait(StorageWaitKind Kind, int Generation, uint CallId, IActorRef? ReplyTo, RequestFailed? CreationFailure = null);

    private readonly Dictionary<long, StorageWait> _storageWaits = [];
    private IActorRef? _storage;
    private long _storageRequests;
    private int _storageIncarnation;

    /// <summary>Set while the removal deletes the storage: writes are refused, so nothing outlives the VM.</summary>
    private bool _storageErasing;

    private StorageSettings StorageConfig => StorageSettings.Of(Context.System);

    private void ReceiveStorage()
    {
        Receive<GetStorage>(get => AskStorage(new StorageWait(StorageWaitKind.Reader, 0, 0, Sender), id => new StorageActor.Dump(id, get.Prefix ?? "")));
        Receive<StorageActor.Done>(OnStorageDone);
        Receive<StorageActor.Dumped>(dumped =>
        {
            if (_storageWaits.Remove(dumped.RequestId, out var wait) && wait.ReplyTo is { } replyTo)
            {
                replyTo.Tell(new StorageContents(_vmId, dumped.Entries));
            }
        });
        Receive<StorageActor.Refused>(refused =>
        {
            if (_storageWaits.Remove(refused.RequestId, out var wait))
            {
                FailStorageWait(wait, refused.Kind, refused.Message);
            }
        });
        Receive<StorageActor.Unavailable>(unavailable => FailStorageWaits(unavailable.Reason));
        Receive<Terminated>(terminated =>
        {
            _storage = null;
            FailStorageWaits("the storage actor stopped");
        }, terminated => terminated.ActorRef.Equals(_storage));
    }

    /// <summary>A <c>vm.storage</c> call of the running process (an <c>M</c> frame with a <c>storage-</c> op).</summary>
    private void OnStorageCall(StorageCall call)
    {
        if (_storageErasing)
        {
            _instance!.Send(HostFrames.StorageError(call.Id, StorageActor.UnavailableKind, $"VM '{_vmId}' is being removed"));
            return;
        }

        var generation = _generation;
        StorageWait Lua(StorageWaitKind kind) => new(kind, generation, call.Id, null);
        switch (call.Op)
        {
            case StorageOp.Get when call.Key.Length > 0:
                AskStorage(Lua(StorageWaitKind.LuaRead), id => new StorageActor.Read(id, call.Key));
                break;
            case StorageOp.Keys:
                AskStorage(Lua(StorageWaitKind.LuaRead), id => new StorageActor.ListKeys(id, call.Key));
                break;
            case StorageOp.Set when call.Key.Length > 0 && call.ValueJson.Length > 0:
                AskStorage(Lua(StorageWaitKind.LuaWrite), id => new StorageActor.Write(id, [new StorageChange(call.Key, call.ValueJson)]));
                break;
            case StorageOp.Delete when call.Key.Length > 0:
                AskStorage(Lua(StorageWaitKind.LuaWrite), id => new StorageActor.Write(id, [new StorageChange(call.Key, null)]));
                break;
            case StorageOp.Commit:
                var changes = StorageCalls.ParseCommit(call.ValueJson, out var problem);
                if (changes is null)
                {
                    _instance!.Send(HostFrames.StorageError(call.Id, "storage-invalid", problem!));
                }
                else if (changes.Count == 0)
                {
                    _instance!.Send(HostFrames.AnswerOk(call.Id));
                }
                else
                {
                    AskStorage(Lua(StorageWaitKind.LuaWrite), id => new StorageActor.Write(id, changes));
                }

                break;
            default:
                _instance!.Send(HostFrames.StorageError(call.Id, "storage-invalid", $"a {call.Op.WireName()} call needs a key{(call.Op == StorageOp.Set ? " and a value" : "")}"));
                break;
        }
    }

    private void AskStorage(StorageWait wait, Func<long, object> message)
    {
        if (_storage is null)
        {
            // A new name each time: the one that stopped may not be gone from the children yet.
            _storage = Context.ActorOf(StorageActor.Props(_vmId, StorageConfig), "storage-" + ++_storageIncarnation);
            Context.Watch(_storage);
        }

        var id = ++_storageRequests;
        _storageWaits[id] = wait;
        _storage.Tell(message(id));
    }

    private void OnStorageDone(StorageActor.Done done)
    {
        if (!_storageWaits.Remove(done.RequestId, out var wait))
        {
            return;
        }

        switch (wait.Kind)
        {
            case StorageWaitKind.LuaRead:
                SendToProcess(wait, HostFrames.StorageAnswer(wait.CallId, done.Json));
                break;
            case StorageWaitKind.LuaWrite:
                SendToProcess(wait, HostFrames.AnswerOk(wait.CallId));
                break;
            case StorageWaitKind.Eraser:
                RemoveSpecNow(wait.ReplyTo!, wait.CreationFailure);
                break;
        }
    }

    /// <summary>The answer goes to the process that asked; a process that died since asked nothing of the new one.</summary>
    private void SendToProcess(StorageWait wait, HostFrame frame)
    {
        if (wait.Generation == _generation && _instance is not null)
        {
            _instance.Send(frame);
        }
    }

    private void FailStorageWaits(string reason)
    {
        foreach (var (id, wait) in _storageWaits.ToList())
        {
            _storageWaits.Remove(id);
            FailStorageWait(wait, StorageActor.UnavailableKind, reason);
        }
    }

    private void FailStorageWait(StorageWait wait, string kind, string message)
    {
        switch (wait.Kind)
        {
            case StorageWaitKind.LuaRead or StorageWaitKind.LuaWrite:
                SendToProcess(wait, HostFrames.StorageError(wait.CallId, kind, message));
                break;
            case StorageWaitKind.Reader:
                wait.ReplyTo!.Tell(new RequestFailed(_vmId, ErrorKind.StorageUnavailable, $"the storage of VM '{_vmId}' cannot be read: {message}"));
                break;
            case StorageWaitKind.Eraser when wait.CreationFailure is not null:
                // The VM was never created: the spec goes whatever happens to the storage.
                _log.Warning("VM {0}: its storage was not deleted ({1})", _vmId, message);
                RemoveSpecNow(wait.ReplyTo!, wait.CreationFailure);
                break;
            case StorageWaitKind.Eraser:
                // Nothing was removed: the VM keeps running, with its storage, and the remover hears why.
                _storageErasing = false;
                _wiring.Resume();
                wait.ReplyTo!.Tell(new RequestFailed(_vmId, ErrorKind.StorageUnavailable,
                    $"VM '{_vmId}' was not removed: its storage could not be deleted: {message}"));
                break;
        }
    }

    /// <summary>
    /// The removal's first steps: the durable links, topics and servers go, then the storage
    /// (snapshots, then events), then the spec (<see cref="RemoveSpecNow"/>). So a VM created again
    /// with the same id starts empty, and a record that cannot be deleted leaves the VM as it was.
    /// </summary>
    private void RemoveSpecThen(IActorRef replyTo, RequestFailed? creationFailure)
    {
        _storageErasing = true;
        var eraser = new StorageWait(StorageWaitKind.Eraser, 0, 0, replyTo, creationFailure);
        _wiring.Erase(Context,
            () => AskStorage(eraser, id => new StorageActor.Erase(id)),
            problem => FailStorageWait(eraser, StorageActor.UnavailableKind, "its links, topics and servers could not be deleted: " + problem));
    }
}
