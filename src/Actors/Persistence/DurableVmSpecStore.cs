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
/// take "no spec" for an answer.
/// </summary>
public sealed class DurableVmSpecStore(IActorRef journal, PersistenceSettings settings) : IVmSpecStore
{
    private static readonly TimeSpan ReadAttempt = TimeSpan.FromSeconds(2);

    public async Task<VmSpec?> FindAsync(string vmId) =>
        (await ReadAsync<SpecFound>(new FindSpec(vmId)).ConfigureAwait(false)).Spec;

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

    private async Task<T> ReadAsync<T>(ISpecJournalMessage query)
    {
        var deadline = DateTime.UtcNow + settings.RecoveryTimeout;
        while (true)
        {
            try
            {
                return await journal.Ask<T>(query, ReadAttempt).ConfigureAwait(false);
            }
            catch (AskTimeoutException e) when (DateTime.UtcNow >= deadline)
            {
                throw new StorageUnavailableException(
                    $"the VM specs in {settings.Describe()} could not be read within {settings.RecoveryTimeout.TotalSeconds:0.#} s", e);
            }
            catch (AskTimeoutException)
            {
                // Recovering, restarting after a lost database, or moving: ask again.
            }
        }
    }
}
