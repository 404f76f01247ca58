using System.Text.Json.Serialization;
using LuaActors.Api;
using LuaActors.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>
/// /vms/{id}/servers: StartServerAsync and StopServerAsync over HTTP (docs/api.md). A listener
/// opened here is the VM's desired state: a new process opens it again, and with persistence on
/// so does the VM after a full restart (docs/guarantees.md).
/// </summary>
internal static class ServerEndpoints
{
    public static void Map(RouteGroupBuilder vms)
    {
        vms.MapPost("{id}/servers", StartAsync)
            .Accepts<ServerRequest>("application/json", HttpApi.AnyBody).Produces<ServerDto>(StatusCodes.Status201Created).WithName("StartVmServer")
            .WithSummary("Opens a listener in a networking VM (port 0: a free one of luaactors.vm.networking.listen-ports); answered once durable");
        vms.MapDelete("{id}/servers/{port:int}", StopAsync).Produces(StatusCodes.Status204NoContent).WithName("StopVmServer")
            .WithSummary("Closes the VM's listener on the port; 404 when it has none there");
    }

    private static async Task<IResult> StartAsync(string id, HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<ServerRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Port is not (>= 0 and <= 65535) || request.Host is "")
        {
            return ApiResults.Invalid("port must be 0-65535 and host, when given, not empty");
        }

        var port = await manager.StartServerAsync(id, request.Port.Value, request.Host ?? "127.0.0.1", context.RequestAborted);
        return ApiResults.Json(StatusCodes.Status201Created, new ServerDto(id, port));
    }

    private static async Task<IResult> StopAsync(string id, int port, VmManager manager, CancellationToken cancellationToken) =>
        await manager.StopServerAsync(id, port, cancellationToken)
            ? Results.NoContent()
            : ApiResults.Error(StatusCodes.Status404NotFound, ErrorKind.NotFound.WireName(), $"VM '{id}' has no listener on port {port}");
}

/// <summary>POST /vms/{id}/servers.</summary>
internal sealed record ServerRequest
{
    [JsonRequired]
    public int? Port { get; init; }

    public string? Host { get; init; }
}

/// <summary>201 of POST /vms/{id}/servers: the port the listener took.</summary>
internal sealed record ServerDto(string Vm, int Port);
