using Akka.Actor;
using LuaActors.Configuration;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// How a manager, local or in a cluster, takes a <see cref="CreateVm"/>: the spec's rules and
/// size are checked here, once (<see cref="Check"/>); then (in a cluster) the type is resolved by
/// the factory, a duplicate refused, and the spec stored (<see cref="RegisterAsync"/>), after
/// which the VM's actor is sent the create and answers it once its process runs.
/// </summary>
internal static class VmCreation
{
    /// <summary>The answer to a create that is refused before anything is asked; null when it may go on.</summary>
    public static RequestFailed? Check(CreateVm create, SizeLimits limits, Storage.StorageSettings storage) =>
        (VmSpecRules.Problem(create.Spec) ?? storage.Problem(create.Spec.Limits?.Storage)) is { } problem
            ? new RequestFailed(create.Spec.VmId ?? "", ErrorKind.InvalidSpec, problem)
            : limits.CheckRequest(create);

    /// <summary>
    /// Refuses an unknown type or a bad config, checked by this node's factory. A cluster asks
    /// before it registers the spec for every node; locally the VM's actor resolves its type
    /// when it starts and answers the creator with the same failure.
    /// </summary>
    public static async Task<RequestFailed?> ResolveTypeAsync(CreateVm create, IActorRef factory, TimeSpan askTimeout) =>
        await factory.Ask<object>(new VmFactoryActor.ResolveBackend(create.Spec), askTimeout).ConfigureAwait(false) as RequestFailed;

    /// <summary>Refuses a duplicate, then stores the spec; null once stored.</summary>
    /// <param name="beforeLookup">Runs before the duplicate lookup (the cluster waits for its regions there).</param>
    public static async Task<RequestFailed?> RegisterAsync(CreateVm create, IVmSpecStore specs, Func<Task>? beforeLookup = null)
    {
        if (beforeLookup is not null)
        {
            await beforeLookup().ConfigureAwait(false);
        }

        try
        {
            if (await specs.FindNowAsync(create.VmId).ConfigureAwait(false) is not null)
            {
                return new RequestFailed(create.VmId, ErrorKind.AlreadyExists, $"a VM with id '{create.VmId}' already exists");
            }

            await specs.PutAsync(create.Spec).ConfigureAwait(false);
        }
        catch (Persistence.StorageUnavailableException e)
        {
            // Not written: the VM is not created (no process, nothing to clean up).
            return new RequestFailed(create.VmId, ErrorKind.StorageUnavailable, e.Message);
        }

        return null;
    }
}
