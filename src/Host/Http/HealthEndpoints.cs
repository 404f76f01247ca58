using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using LuaActors.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>
/// Probes for load balancers and Kubernetes (docs/api.md, "Health"). <c>/healthz</c>: the process
/// and its actor system are alive (restart it when this fails). <c>/readyz</c>: this node can
/// take requests: it is Up in the cluster and the shard coordinator knows its region (send it
/// traffic only then), and the database of desired state answers. Neither needs the token: they tell nothing but up or not.
/// </summary>
internal static class HealthEndpoints
{
    public static readonly string[] Paths = ["/healthz", "/readyz"];

    // A coordinator that does not answer within this is as good as none, for a probe.
    private static readonly TimeSpan CoordinatorWait = TimeSpan.FromSeconds(2);

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", (ActorSystem system) => system.WhenTerminated.IsCompleted
            ? Results.Json(new HealthResponse("terminated", ["the actor system has stopped"]), ApiJson.Server, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(new HealthResponse("alive", []), ApiJson.Server));
        routes.MapGet("/readyz", async (ActorSystem system, CancellationToken cancellationToken) =>
        {
            var problems = await ProblemsAsync(system, cancellationToken);
            return problems.Count == 0
                ? Results.Json(new HealthResponse("ready", []), ApiJson.Server)
                : Results.Json(new HealthResponse("not-ready", problems), ApiJson.Server, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }

    private static async Task<IReadOnlyList<string>> ProblemsAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        if (system.WhenTerminated.IsCompleted)
        {
            return ["the actor system has stopped"];
        }

        // The database of desired state (luaactors.persistence): creates and removes need it.
        if (await LuaActors.Persistence.LuaActorsPersistence.Get(system).ProblemAsync(cancellationToken) is { } storage)
        {
            return ["persistence: " + storage];
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        var status = cluster.SelfMember.Status;
        if (status != MemberStatus.Up)
        {
            return [$"this node is {status.ToString().ToLowerInvariant()} in the cluster, not up"];
        }

        try
        {
            var region = ActorRegistry.For(system).Get<VmShardRegion>();
            var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, CoordinatorWait, cancellationToken);
            return regions.Regions.Contains(cluster.SelfAddress)
                ? []
                : ["the shard coordinator does not know this node's region yet"];
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return [$"the shard coordinator did not answer within {CoordinatorWait.TotalSeconds:0} s"];
        }
    }
}

/// <summary>The body of <c>/healthz</c> and <c>/readyz</c>: "alive", "ready" or "not-ready", and why not.</summary>
internal sealed record HealthResponse(string Status, IReadOnlyList<string> Problems);
