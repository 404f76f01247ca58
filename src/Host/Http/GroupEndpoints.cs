using LuaActors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>/groups: VM groups NAME-1..N for parallel work (docs/api.md, "Groups").</summary>
internal static class GroupEndpoints
{
    /// <summary>The most VMs one request creates: a typo in COUNT should not fork a machine to death.</summary>
    public const int MaxGroupSize = 1000;

    public static void Map(RouteGroupBuilder groups)
    {
        groups.MapPost("", CreateAsync)
            .Accepts<CreateGroupRequest>("application/json", HttpApi.AnyBody).Produces<GroupDto>(StatusCodes.Status201Created).WithName("CreateGroup");
        groups.MapGet("{name}", ShowAsync).Produces<GroupDto>().WithName("GetGroup");
        groups.MapPost("{name}/execute", ExecuteAsync)
            .Accepts<GroupExecuteRequest>("application/json", HttpApi.AnyBody).Produces<GroupExecuteResponse>().WithName("ExecuteInGroup");
        groups.MapDelete("{name}", RemoveAsync).Produces<GroupRemovedDto>().WithName("RemoveGroup");
    }

    private static async Task<IResult> CreateAsync(HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<CreateGroupRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Name is not { } name)
        {
            return ApiResults.Invalid("name must be a string");
        }

        if (name.Length == 0)
        {
            return ApiResults.Invalid("name must not be empty");
        }

        if (request.Count is not { } count)
        {
            return ApiResults.Invalid("count must be a number");
        }

        if (count is < 1 or > MaxGroupSize)
        {
            return ApiResults.Invalid($"count must be a whole number from 1 to {MaxGroupSize} (got {count})");
        }

        if (VmEndpoints.Options(request, out var options) is { } invalid)
        {
            return invalid;
        }

        var vms = await manager.CreateGroupAsync(name, count, options, context.RequestAborted);
        var infos = await Task.WhenAll(vms.Select(vm => vm.GetInfoAsync(context.RequestAborted)));
        context.Response.Headers.Location = "/groups/" + Uri.EscapeDataString(name);
        return ApiResults.Json(StatusCodes.Status201Created, new GroupDto(name, infos.Select(VmInfoDto.From).ToList()));
    }

    private static async Task<IResult> ShowAsync(string name, VmManager manager, CancellationToken cancellationToken)
    {
        var members = await manager.RequireGroupMembersAsync(name, cancellationToken);
        var infos = (await manager.ListVmsAsync(cancellationToken)).ToDictionary(vm => vm.VmId, StringComparer.Ordinal);
        return ApiResults.Ok(new GroupDto(name, members.Where(infos.ContainsKey).Select(id => VmInfoDto.From(infos[id])).ToList()));
    }

    private static async Task<IResult> ExecuteAsync(string name, HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<GroupExecuteRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Code is not { } code)
        {
            return ApiResults.Invalid("code must be a string");
        }

        // Checked here, once: a bad limit would otherwise come back as one error per VM.
        if (request.TimeoutMs is <= 0)
        {
            return ApiResults.Invalid("timeoutMs must be a positive number");
        }

        if (request.MemoryMb is <= 0)
        {
            return ApiResults.Invalid("memoryMb must be a positive number");
        }

        var results = await manager.BroadcastAsync(
            name, code, new ExecuteOptions(request.TimeoutMs, request.MemoryMb), context.RequestAborted);
        var items = results
            .Select(r => r.Error is { } error ? ExecuteResponse.Failure(error, r.VmId) : ExecuteResponse.Success(r.Result!, r.VmId))
            .ToList();
        return ApiResults.Ok(new GroupExecuteResponse(items.All(item => item.Ok), items));
    }

    private static async Task<IResult> RemoveAsync(string name, VmManager manager, CancellationToken cancellationToken)
    {
        await manager.RequireGroupMembersAsync(name, cancellationToken);
        var removed = await manager.RemoveGroupAsync(name, cancellationToken);
        return ApiResults.Ok(new GroupRemovedDto(name, removed));
    }
}
