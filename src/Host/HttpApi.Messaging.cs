using LuaActors.Api;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>Messages into VMs, topics and peer links over HTTP (docs/api.md, "Messaging"; docs/messaging.md).</summary>
internal sealed partial class HttpApi
{
    private async Task<IResult> SendAsync(string id, HttpContext context)
    {
        var request = await ReadAsync<MessageRequest>(context);
        var inboxCount = await manager.SendAsync(id, request.Value, context.RequestAborted);
        return Json(StatusCodes.Status202Accepted, new MessageAcceptedDto(id, inboxCount));
    }

    private async Task<IResult> PublishAsync(HttpContext context)
    {
        var topic = (string)context.Request.RouteValues["topic"]!;
        var request = await ReadAsync<MessageRequest>(context);
        await manager.PublishAsync(topic, request.Value);
        return Json(StatusCodes.Status202Accepted, new PublishedDto(topic));
    }

    private async Task<IResult> LinkAsync(string id, HttpContext context)
    {
        var request = await ReadAsync<LinkRequest>(context);
        var peer = request.Peer ?? throw new BadRequestException("peer must be a string");
        await manager.LinkAsync(id, peer, context.RequestAborted);
        return Json(StatusCodes.Status200OK, VmInfoDto.From(await manager.GetVmInfoAsync(id, context.RequestAborted)));
    }

    private async Task<IResult> UnlinkAsync(string id, HttpContext context)
    {
        await manager.UnlinkAsync(id, (string)context.Request.RouteValues["peer"]!, context.RequestAborted);
        return Results.NoContent();
    }
}
