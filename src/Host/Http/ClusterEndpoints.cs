using Akka.Actor;
using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>GET /cluster: the members, their status and VM counts (docs/api.md, "Cluster").</summary>
internal static class ClusterEndpoints
{
    public static void Map(RouteGroupBuilder cluster) =>
        cluster.MapGet("", ShowAsync).Produces<ClusterDto>().WithName("GetCluster");

    private static async Task<IResult> ShowAsync(ActorSystem system, VmManager manager, CancellationToken cancellationToken)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var vms = await manager.ListVmsAsync(cancellationToken);
        var perNode = vms.GroupBy(v => v.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = state.Members
            .Select(m => new MemberDto(
                m.Address.ToString(),
                ApiJson.Name(m.Status),
                !unreachable.Contains(m.UniqueAddress),
                m.Roles.Order(StringComparer.Ordinal).ToList(),
                perNode.GetValueOrDefault(m.Address.ToString())))
            .ToList();
        return ApiResults.Ok(new ClusterDto(cluster.SelfAddress.ToString(), state.Leader?.ToString(), vms.Count, members));
    }
}
