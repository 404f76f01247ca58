using Akka.Actor;
using LuaActors.Api;
using LuaActors.Diagnostics;
using LuaActors.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>
/// GET /top: the cluster's members with their load, and every VM with its usage, for
/// <c>luaactors top</c> (docs/api.md, "Top"). The node asks every reachable member's
/// <see cref="NodeStatsActor"/> and joins the answers with the VM list.
/// </summary>
internal static class TopEndpoints
{
    public const string Path = "/top";

    // A member that does not answer within this is shown without its load, not waited for.
    private static readonly TimeSpan MemberWait = TimeSpan.FromSeconds(2);

    public static WebApplication MapLuaActorsTop(this WebApplication app)
    {
        app.MapGet(Path, ShowAsync).AddEndpointFilter(ApiResults.ErrorFilter).Produces<TopDto>().WithName("GetTop").WithTags("cluster");
        return app;
    }

    private static async Task<IResult> ShowAsync(ActorSystem system, VmManager manager, CancellationToken cancellationToken)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = state.Members.ToList();
        var asked = members.Select(m => unreachable.Contains(m.UniqueAddress)
            ? Task.FromResult<NodeStats?>(null)
            : AskAsync(system, m.Address, cancellationToken)).ToList();
        var vms = await manager.ListVmsAsync(cancellationToken);
        var stats = await Task.WhenAll(asked);
        var usage = stats.OfType<NodeStats>()
            .SelectMany(n => n.Vms.Select(vm => (n.Node, vm)))
            .ToDictionary(x => (x.Node, x.vm.VmId), x => x.vm);
        var empty = new long[LuaActorsMetrics.ExecutionBucketBounds.Count + 1];
        var nodes = members.Select((m, i) => new TopNodeDto(
            m.Address.ToString(),
            ApiJson.Name(m.Status),
            !unreachable.Contains(m.UniqueAddress),
            vms.Count(v => v.Node == m.Address.ToString()),
            stats[i]?.LoadAverage,
            stats[i]?.Processors)).ToList();
        var rows = vms.Select(vm =>
        {
            var used = usage.GetValueOrDefault((vm.Node, vm.VmId));
            return new TopVmDto(
                vm.VmId, vm.Type, ApiJson.Name(vm.State), vm.Node, vm.ProcessId, vm.Restarts, vm.ResidentBytes,
                used?.CpuSeconds ?? 0, used?.Executions ?? 0, used?.DurationCounts ?? empty);
        }).ToList();
        return ApiResults.Ok(new TopDto(
            cluster.SelfAddress.ToString(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), LuaActorsMetrics.ExecutionBucketBounds, nodes, rows));
    }

    private static async Task<NodeStats?> AskAsync(ActorSystem system, Address member, CancellationToken cancellationToken)
    {
        try
        {
            return await system.ActorSelection(new RootActorPath(member) / "user" / NodeStatsActor.Name)
                .Ask<NodeStats>(GetNodeStats.Instance, MemberWait, cancellationToken);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return null;
        }
    }
}
