using LuaActors.Api;
using LuaActors.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>/vms: create, list, show, execute in and remove VMs (docs/api.md, "VMs").</summary>
internal static class VmEndpoints
{
    public static void Map(RouteGroupBuilder vms)
    {
        vms.MapPost("", CreateAsync)
            .Accepts<CreateVmRequest>("application/json", HttpApi.AnyBody).Produces<VmInfoDto>(StatusCodes.Status201Created).WithName("CreateVm");
        vms.MapGet("", ListAsync).Produces<VmListDto>().WithName("ListVms");
        vms.MapGet("{id}", InfoAsync).Produces<VmInfoDto>().WithName("GetVm");
        vms.MapDelete("{id}", RemoveAsync).Produces(StatusCodes.Status204NoContent).WithName("RemoveVm");
    }

    /// <summary>
    /// POST /vms/{id}/execute, the hot path, in a group of its own without endpoint filters: it
    /// checks the id and answers what it throws itself (the same answers as the filters give),
    /// and writes a result straight from the VM's reply (docs/performance.md, "The service path").
    /// </summary>
    public static void MapExecute(RouteGroupBuilder vms) =>
        vms.MapPost("{id}/execute", ExecuteAsync)
            .Accepts<ExecuteRequest>("application/json", HttpApi.AnyBody).Produces<ExecuteResponse>().WithName("ExecuteInVm");

    /// <summary>A VM id outside the grammar (<see cref="VmId"/>), in the route or a body: the 400 to answer, else null.</summary>
    public static IResult? Refuse(string id) => VmId.Problem(id) is { } problem ? ApiResults.Invalid(problem) : null;

    /// <summary>Refuses a route whose {id} breaks the grammar before its handler runs.</summary>
    public static async ValueTask<object?> CheckRouteId(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        invocation.HttpContext.Request.RouteValues.TryGetValue("id", out var id) && id is string text && Refuse(text) is { } refusal
            ? refusal
            : await next(invocation);

    private static async Task<IResult> CreateAsync(HttpContext context, VmManager manager)
    {
        var (request, refusal) = await JsonBody<CreateVmRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Id is not { } id)
        {
            return ApiResults.Invalid("id must be a string");
        }

        if (Refuse(id) is { } badId)
        {
            return badId;
        }

        if (Options(request, out var options) is { } invalid)
        {
            return invalid;
        }

        var vm = await manager.CreateVmAsync(id, options, context.RequestAborted);
        var info = await vm.GetInfoAsync(context.RequestAborted);
        context.Response.Headers.Location = "/vms/" + Uri.EscapeDataString(id);
        return ApiResults.Json(StatusCodes.Status201Created, VmInfoDto.From(info));
    }

    /// <summary>The <see cref="VmOptions"/> of a create request (a VM's or a group's), or the refusal.</summary>
    public static IResult? Options(VmOptionsRequest request, out VmOptions options)
    {
        options = new VmOptions
        {
            Type = request.Type ?? "basic",
            Config = request.Config,
            InitScript = request.InitScript,
            Limits = request.Limits is { } limits
                ? new VmLimits(limits.TimeoutMs, limits.MemoryMb, limits.OutputCapBytes, limits.InboxCapacity,
                    limits.Storage is { } storage ? new VmStorageLimits(storage.MaxValueBytes, storage.MaxKeys, storage.MaxTotalBytes) : null)
                : null,
            Networking = request.Networking ?? false,
        };
        return request.Config is null || request.Config.Values.All(value => value is not null)
            ? null
            : ApiResults.Invalid("config values must be strings");
    }

    private static async Task<IResult> ListAsync(VmManager manager, CancellationToken cancellationToken)
    {
        var vms = await manager.ListVmsAsync(cancellationToken);
        return ApiResults.Ok(new VmListDto(vms.Select(VmInfoDto.From).ToList()));
    }

    private static async Task<IResult> InfoAsync(string id, VmManager manager, CancellationToken cancellationToken) =>
        ApiResults.Ok(VmInfoDto.From(await manager.GetVmInfoAsync(id, cancellationToken)));

    private static async Task ExecuteAsync(string id, HttpContext context, VmManager manager)
    {
        IResult? answer;
        try
        {
            answer = await ExecuteOrRefuseAsync(id, context, manager);
        }
        catch (Exception e)
        {
            answer = await ApiResults.ForExceptionAsync(e, context);
        }

        if (answer is not null)
        {
            await answer.ExecuteAsync(context);
        }
    }

    /// <summary>Runs the request's code; null once the result is written, else the answer to write.</summary>
    private static async Task<IResult?> ExecuteOrRefuseAsync(string id, HttpContext context, VmManager manager)
    {
        if (Refuse(id) is { } badId)
        {
            return badId;
        }

        var (request, refusal) = await JsonBody<ExecuteRequest>.ReadAsync(context);
        if (request is null)
        {
            return refusal!;
        }

        if (request.Code is not { } code)
        {
            return ApiResults.Invalid("code must be a string");
        }

        var mode = request.Mode switch
        {
            null or "chunk" => ExecuteMode.Chunk,
            "repl" => ExecuteMode.Repl,
            _ => (ExecuteMode?)null,
        };
        if (mode is null)
        {
            return ApiResults.Invalid($"mode must be \"chunk\" or \"repl\" (got \"{request.Mode}\")");
        }

        // A Lua error is a normal result of running code (200, "ok": false), not a failure of the request.
        var (result, luaError) = await manager.ExecuteOutcomeAsync(
            id, code, mode.Value, new ExecuteOptions(request.TimeoutMs, request.MemoryMb), context.RequestAborted);
        if (luaError is not null)
        {
            return ApiResults.Ok(ExecuteResponse.Failure(luaError));
        }

        ExecutedJson.Write(context.Response, result!);
        return null;
    }

    private static async Task<IResult> RemoveAsync(string id, VmManager manager, CancellationToken cancellationToken)
    {
        await manager.RemoveVmAsync(id, cancellationToken);
        return Results.NoContent();
    }
}
