using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>Messages into VMs, topics and peer links (docs/api.md, "Messaging"; docs/messaging.md).</summary>
internal static class MessagingEndpoints
{
    /// <param name="vms">The /vms group (its {id} routes are checked against the VM id grammar).</param>
    /// <param name="topics">The /topics group.</param>
    public static void Map(RouteGroupBuilder vms, RouteGroupBuilder topics)
    {
        vms.MapPost("{id}/messages", SendAsync)
            .Accepts<MessageRequest>("application/json", HttpApi.AnyBody).Produces<MessageAcceptedDto>(StatusCodes.Status202Accepted).WithName("SendToVm");
        vms.MapPost("{id}/peers", LinkAsync).Accepts<LinkRequest>("application/json", HttpApi.AnyBody).Produces<VmInfoDto>().WithName("LinkVms");
        vms.MapDelete("{id}/peers/{peer}", UnlinkAsync).Produces(StatusCodes.Status204NoContent).WithName("UnlinkVms");
        topics.MapPost("{topic}/messages", PublishAsync)
            .Accepts<MessageRequest>("application/json", HttpApi.AnyBody).Produces<PublishedDto>(StatusCodes.Status202Accepted).WithName("Publish");
    }

    private static async Task<IResult> SendAsync(string id, HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<MessageRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        var inboxCount = await manager.SendAsync(id, request.Value, context.RequestAborted);
        return ApiResults.Json(StatusCodes.Status202Accepted, new MessageAcceptedDto(id, inboxCount));
    }

    private static async Task<IResult> PublishAsync(string topic, HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<MessageRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        await manager.PublishAsync(topic, request.Value);
        return ApiResults.Json(StatusCodes.Status202Accepted, new PublishedDto(topic));
    }

    private static async Task<IResult> LinkAsync(string id, HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<LinkRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Peer is not { } peer)
        {
            return ApiResults.Invalid("peer must be a string");
        }

        await manager.LinkAsync(id, peer, context.RequestAborted);
        return ApiResults.Ok(VmInfoDto.From(await manager.GetVmInfoAsync(id, context.RequestAborted)));
    }

    private static async Task<IResult> UnlinkAsync(string id, string peer, VmManager manager, CancellationToken cancellationToken)
    {
        await manager.UnlinkAsync(id, peer, cancellationToken);
        return Results.NoContent();
    }
}
