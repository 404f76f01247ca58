using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LuaActors.Host;

/// <summary>
/// The node's HTTP API (docs/api.md): one route group per feature over the <see cref="Api.VmManager"/>
/// of the node's services, the health probes and the OpenAPI document.
/// </summary>
internal static class HttpApi
{
    /// <summary>Where the OpenAPI document is served (GET, no token needed).</summary>
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// Bodies are read as JSON whatever their Content-Type says (as before the OpenAPI document):
    /// listed beside application/json so that routing does not refuse other types.
    /// </summary>
    public const string AnyBody = "*/*";

    /// <summary>Paths that need no token: they tell nothing but up or not, or the API's shape.</summary>
    public static readonly string[] PublicPaths = [.. HealthEndpoints.Paths, OpenApiPath];

    public static IServiceCollection AddLuaActorsHttpApi(this IServiceCollection services)
    {
        services.AddRoutingCore();
        services.AddOpenApi();
        return services;
    }

    /// <param name="app">The node's web application, its services holding the VmManager and the ActorSystem.</param>
    /// <param name="token">Required on every request but <see cref="PublicPaths"/> when set.</param>
    public static void MapLuaActorsHttpApi(this WebApplication app, string? token)
    {
        // Before the token check, which needs to know a WebSocket request (its token may come in the URL).
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        if (token is not null)
        {
            app.UseBearerToken(token);
        }

        app.UseRouting();
        app.MapOpenApi(OpenApiPath);
        HealthEndpoints.Map(app);

        var api = app.MapGroup("").AddEndpointFilter(ApiResults.ErrorFilter);
        var vms = api.MapGroup("/vms").AddEndpointFilter(VmEndpoints.CheckRouteId).WithTags("vms");
        VmEndpoints.Map(vms);
        VmEndpoints.MapExecute(app.MapGroup("/vms").WithTags("vms"));
        StorageEndpoints.Map(api.MapGroup("/vms").AddEndpointFilter(VmEndpoints.CheckRouteId).WithTags("storage"));
        AttachEndpoints.Map(api.MapGroup("/vms").AddEndpointFilter(VmEndpoints.CheckRouteId).WithTags("attach"));
        ServerEndpoints.Map(api.MapGroup("/vms").AddEndpointFilter(VmEndpoints.CheckRouteId).WithTags("networking"));
        MessagingEndpoints.Map(
            api.MapGroup("/vms").AddEndpointFilter(VmEndpoints.CheckRouteId).WithTags("messaging"),
            api.MapGroup("/topics").WithTags("messaging"));
        GroupEndpoints.Map(api.MapGroup("/groups").WithTags("groups"));
        ClusterEndpoints.Map(api.MapGroup("/cluster").WithTags("cluster"));
        app.MapFallback((HttpRequest request) => ApiResults.NoRoute(request)).ExcludeFromDescription();
    }
}
