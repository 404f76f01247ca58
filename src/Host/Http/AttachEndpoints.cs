using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LuaActors.Host;

/// <summary>GET /vms/{id}/attach: an interactive session over a WebSocket (docs/api.md, "Attach").</summary>
internal static class AttachEndpoints
{
    public static void Map(RouteGroupBuilder vms) =>
        vms.MapGet("{id}/attach", AttachAsync).Produces(StatusCodes.Status101SwitchingProtocols).WithName("AttachToVm");

    private static async Task<IResult> AttachAsync(string id, HttpContext context, VmManager manager, HttpErrorLog log)
    {
        // Refusals come before the upgrade, as ordinary JSON answers: an unknown VM is a 404
        // whether or not the request asked for a WebSocket.
        await manager.GetVmInfoAsync(id, context.RequestAborted);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return ApiResults.Invalid("GET /vms/{id}/attach takes a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)");
        }

        var session = await manager.AttachAsync(id, context.RequestAborted);
        System.Net.WebSockets.WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync();
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }

        using (socket)
        {
            var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            try
            {
                await new SessionSocket(socket, session, log.Writer).RunAsync(session.SessionsAtAttach, stopping, context.RequestAborted);
            }
            catch (Exception e)
            {
                // After the upgrade there is no HTTP answer to turn this into: log it, as a 500 would be.
                await log.Writer.WriteLineAsync($"luaactors node: the attach socket of {session.SessionId} on {id} failed: {e}");
                await session.DisposeAsync();
            }
        }

        // The answer was the upgrade; nothing more to write.
        return Results.Empty;
    }
}
