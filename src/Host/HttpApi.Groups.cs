using LuaActors.Api;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>The /groups endpoints: VM groups NAME-1..N for parallel work (docs/api.md).</summary>
internal sealed partial class HttpApi
{
    /// <summary>The most VMs one request creates: a typo in COUNT should not fork a machine to death.</summary>
    public const int MaxGroupSize = 1000;

    private async Task<IResult> CreateGroupAsync(HttpContext context)
    {
        var request = await ReadAsync<CreateGroupRequest>(context);
        var name = request.Name ?? throw new BadRequestException("name must be a string");
        Require(name.Length > 0, "name must not be empty");
        var count = request.Count ?? throw new BadRequestException("count must be a number");
        Require(count is >= 1 and <= MaxGroupSize, $"count must be a whole number from 1 to {MaxGroupSize} (got {count})");
        var vms = await manager.CreateGroupAsync(name, count, OptionsOf(request), context.RequestAborted);
        var infos = await Task.WhenAll(vms.Select(vm => vm.GetInfoAsync(context.RequestAborted)));
        context.Response.Headers.Location = "/groups/" + Uri.EscapeDataString(name);
        return Json(StatusCodes.Status201Created, new GroupDto(name, infos.Select(VmInfoDto.From).ToList()));
    }

    private async Task<IResult> GroupAsync(string name, HttpContext context)
    {
        var members = await manager.RequireGroupMembersAsync(name, context.RequestAborted);
        var infos = (await manager.ListVmsAsync(context.RequestAborted)).ToDictionary(vm => vm.VmId, StringComparer.Ordinal);
        return Json(StatusCodes.Status200OK, new GroupDto(
            name, members.Where(infos.ContainsKey).Select(id => VmInfoDto.From(infos[id])).ToList()));
    }

    private async Task<IResult> ExecuteGroupAsync(string name, HttpContext context)
    {
        var request = await ReadAsync<GroupExecuteRequest>(context);
        var code = request.Code ?? throw new BadRequestException("code must be a string");
        // Checked here, once: a bad limit would otherwise come back as one error per VM.
        Require(request.TimeoutMs is null or > 0, "timeoutMs must be a positive number");
        Require(request.MemoryMb is null or > 0, "memoryMb must be a positive number");
        var results = await manager.BroadcastAsync(
            name, code, new ExecuteOptions(request.TimeoutMs, request.MemoryMb), context.RequestAborted);
        var items = results
            .Select(r => r.Error is { } error ? ExecuteResponse.Failure(error, r.VmId) : ExecuteResponse.Success(r.Result!, r.VmId))
            .ToList();
        return Json(StatusCodes.Status200OK, new GroupExecuteResponse(items.All(item => item.Ok), items));
    }

    private async Task<IResult> RemoveGroupAsync(string name, HttpContext context)
    {
        await manager.RequireGroupMembersAsync(name, context.RequestAborted);
        var removed = await manager.RemoveGroupAsync(name, context.RequestAborted);
        return Json(StatusCodes.Status200OK, new GroupRemovedDto(name, removed));
    }
}
