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
/// <see cref="StorageWaits"/>; when the child stops (the journal failed), whatever waits fails
/// with storage-unavailable at once.
/// </summary>
public sealed partial class VmActor
{
    private readonly StorageWaits _storageWaits;
    private IActorRef? _storage;
    private int _storageIncarnation;

    private StorageSettings StorageConfig => StorageSettings.Of(Context.System);

    private void ReceiveStorage()
    {
        Receive<GetStorage>(get => AskStorage(new StorageWait(StorageWaitKind.Reader, 0, 0, Sender), id => new StorageActor.Dump(id, get.Prefix ?? "")));
        Receive<StorageActor.Done>(OnStorageDone);
        Receive<StorageActor.Dumped>(dumped => _storageWaits.Take(dumped.RequestId)?.ReplyTo?.Tell(new StorageContents(_vmId, dumped.Entries)));
        Receive<StorageActor.Refused>(refused =>
        {
            if (_storageWaits.Take(refused.RequestId) is { } wait)
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
        var plan = _storageWaits.Plan(call);
        if (plan.AnswerNow is { } answer)
        {
            _instance!.Send(answer);
            return;
        }

        AskStorage(new StorageWait(plan.Kind, _generation, call.Id, null), plan.Request!);
    }

    private void AskStorage(StorageWait wait, Func<long, object> message)
    {
        if (_storage is null)
        {
            // A new name each time: the one that stopped may not be gone from the children yet.
            _storage = Context.ActorOf(StorageActor.Props(_vmId, StorageConfig.ForVm(_spec?.Limits?.Storage)), "storage-" + ++_storageIncarnation);
            Context.Watch(_storage);
        }

        _storage.Tell(message(_storageWaits.Add(wait)));
    }

    private void OnStorageDone(StorageActor.Done done)
    {
        switch (_storageWaits.Take(done.RequestId))
        {
            case { Kind: StorageWaitKind.Eraser } eraser:
                RemoveSpecNow(eraser.ReplyTo!, eraser.CreationFailure);
                break;
            case { } wait:
                SendToProcess(wait, StorageWaits.Answered(wait, done.Json));
                break;
        }
    }

    /// <summary>The answer goes to the process that asked; a process that died since asked nothing of the new one.</summary>
    private void SendToProcess(StorageWait wait, HostFrame? frame)
    {
        if (frame is { } toProcess && wait.Generation == _generation && _instance is not null)
        {
            _instance.Send(toProcess);
        }
    }

    private void FailStorageWaits(string reason)
    {
        foreach (var wait in _storageWaits.TakeAll())
        {
            FailStorageWait(wait, StorageActor.UnavailableKind, reason);
        }
    }

    private void FailStorageWait(StorageWait wait, string kind, string message)
    {
        var failure = _storageWaits.Failed(wait, kind, message);
        SendToProcess(wait, failure.ToProcess);
        if (failure.ToReplyTo is { } answer)
        {
            wait.ReplyTo!.Tell(answer);
        }

        if (wait.Kind == StorageWaitKind.Eraser && wait.CreationFailure is null)
        {
            // The VM stays: its durable links, topics and servers take changes again.
            _wiring.Resume();
        }

        if (failure.RemoveSpecAnyway)
        {
            _log.Warning("VM {0}: its storage was not deleted ({1})", _vmId, message);
            RemoveSpecNow(wait.ReplyTo!, wait.CreationFailure);
        }
    }

    /// <summary>
    /// The removal's first steps: the durable links, topics and servers go, then the storage
    /// (snapshots, then events), then the spec (<see cref="RemoveSpecNow"/>). So a VM created again
    /// with the same id starts empty, and a record that cannot be deleted leaves the VM as it was.
    /// </summary>
    private void RemoveSpecThen(IActorRef replyTo, RequestFailed? creationFailure)
    {
        _storageWaits.BeginErasing();
        var eraser = new StorageWait(StorageWaitKind.Eraser, 0, 0, replyTo, creationFailure);
        _wiring.Erase(Context,
            () => AskStorage(eraser, id => new StorageActor.Erase(id)),
            problem => FailStorageWait(eraser, StorageActor.UnavailableKind, "its links, topics and servers could not be deleted: " + problem));
    }
}
