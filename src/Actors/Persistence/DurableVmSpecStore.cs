using Akka.Actor;
using LuaActors.Messages;
using LuaActors.Vm;

namespace LuaActors.Persistence;

/// <summary>
/// The <see cref="IVmSpecStore"/> over the <see cref="VmSpecJournal"/> (a local actor, or the
/// cluster singleton's proxy). Writes return once the database has them and throw
/// <see cref="StorageUnavailableException"/> otherwise. Reads retry until the journal has
/// recovered (after a start it may be reading the database, or still moving between nodes), for
/// up to the recovery time-out: a VM that sharding starts while the journal recovers must not
/// take "no spec" for an answer. A create's duplicate check (<see cref="FindNowAsync"/>) does
/// not wait: while the database is known to be unreachable it fails at once.
/// </summary>
public sealed class DurableVmSpecStore(IActorRef journal, PersistenceSettings settings) : IVmSpecStore
{
    private static readonly TimeSpan ReadAttempt = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReadRetry = TimeSpan.FromMilliseconds(250);

    public async Task<VmSpec?> FindAsync(string vmId) =>
        (await ReadAsync<SpecFound>(new FindSpec(vmId)).ConfigureAwait(false)).Spec;

    public async Task<VmSpec?> FindNowAsync(string vmId) =>
        (await ReadAsync<SpecFound>(new FindSpec(vmId), waitForDatabase: false).ConfigureAwait(false)).Spec;

    public async Task<IReadOnlyDictionary<string, VmSpec>> AllAsync() =>
        (await ReadAsync<AllSpecs>(GetAllSpecs.Instance).ConfigureAwait(false)).Specs.ToDictionary(s => s.VmId, StringComparer.Ordinal);

    public async Task<bool> PutAsync(VmSpec spec)
    {
        await WriteAsync(new PutSpec(spec), spec.VmId).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> RemoveAsync(string vmId) =>
        await WriteAsync(new RemoveSpec(vmId), vmId).ConfigureAwait(false) is SpecDeleted { Existed: true };

    private async Task<object> WriteAsync(ISpecJournalMessage command, string vmId)
    {
        object answer;
        try
        {
            answer = await journal.Ask<object>(command, settings.WriteTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new StorageUnavailableException(
                $"{settings.Describe()} did not confirm the write for VM '{vmId}' within {settings.WriteTimeout.TotalSeconds:0.#} s", e);
        }

        return answer is SpecWriteFailed failed
            ? throw new StorageUnavailableException($"{settings.Describe()} did not take the write for VM '{vmId}': {failed.Reason}")
            : answer;
    }

    private async Task<T> ReadAsync<T>(ISpecJournalMessage query, bool waitForDatabase = true)
    {
        var deadline = DateTime.UtcNow + settings.RecoveryTimeout;
        while (true)
        {
            object answer;
            try
            {
                answer = await journal.Ask<object>(query, ReadAttempt).ConfigureAwait(false);
            }
            catch (AskTimeoutException e) when (DateTime.UtcNow >= deadline)
            {
                throw new StorageUnavailableException(
                    $"the VM specs in {settings.Describe()} could not be read within {settings.RecoveryTimeout.TotalSeconds:0.#} s", e);
            }
            catch (AskTimeoutException)
            {
                // Recovering, or moving to another node: ask again.
                continue;
            }

            switch (answer)
            {
                case T found:
                    return found;
                case SpecJournalUnavailable unavailable when !waitForDatabase || DateTime.UtcNow >= deadline:
                    throw new StorageUnavailableException($"the VM specs in {settings.Describe()} cannot be read: {unavailable.Reason}");
                case SpecJournalUnavailable:
                    // The database is away: ask again once the journal may have recovered.
                    await Task.Delay(ReadRetry).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidOperationException($"the VM spec journal answered {answer.GetType().Name} to {query.GetType().Name}");
            }
        }
    }
}
