using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Vm;

/// <summary>
/// ListVms and ShutdownAll for either manager: every VM the <see cref="IVmSpecStore"/> knows,
/// asked through <c>router</c> (the local manager itself, or the shard region), each with its own
/// time-out so one stuck VM cannot hold up the answer.
/// </summary>
internal static class VmCatalog
{
    public static async Task<ILuaActorsMessage> ListAsync(IVmSpecStore specs, IActorRef router, TimeSpan askTimeout)
    {
        var all = await specs.AllAsync().ConfigureAwait(false);
        var infos = await Task.WhenAll(all.Values.Select(async spec =>
        {
            try
            {
                return await router.Ask<object>(new GetVmInfo(spec.VmId), askTimeout).ConfigureAwait(false) as VmInfo
                    ?? Unresponsive(spec, "no info");
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return Unresponsive(spec, "did not answer in time");
            }
        })).ConfigureAwait(false);
        return new VmList(infos.OrderBy(v => v.VmId, StringComparer.Ordinal).ToArray());
    }

    public static async Task<ILuaActorsMessage> RemoveAllAsync(IVmSpecStore specs, IActorRef router, TimeSpan askTimeout)
    {
        var all = await specs.AllAsync().ConfigureAwait(false);
        var removed = await Task.WhenAll(all.Keys.Select(async id =>
        {
            try
            {
                return await router.Ask<object>(new RemoveVm(id), askTimeout).ConfigureAwait(false) is VmRemoved;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return false;
            }
        })).ConfigureAwait(false);
        return new AllVmsShutDown(removed.Count(ok => ok));
    }

    private static VmInfo Unresponsive(VmSpec spec, string why) =>
        new(spec.VmId, spec.Type, VmState.Unresponsive, null, "", 0, 0, null, 0, why);
}
