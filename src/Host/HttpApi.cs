using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using LuaActors.Api;
using LuaActors.Messages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace LuaActors.Host;

/// <summary>The node's HTTP API (docs/api.md): JSON over the <see cref="VmManager"/> API.</summary>
internal sealed partial class HttpApi(VmManager manager, TextWriter errors)
{
    private sealed class BadRequestException(string message) : Exception(message);

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/vms", Handle(CreateAsync));
        routes.MapGet("/vms", Handle(ListAsync));
        routes.MapGet("/vms/{id}", Handle(context => InfoAsync(Id(context), context)));
        routes.MapPost("/vms/{id}/execute", Handle(context => ExecuteAsync(Id(context), context)));
        routes.MapDelete("/vms/{id}", Handle(context => RemoveAsync(Id(context), context)));
        routes.MapGet("/vms/{id}/attach", Handle(context => AttachAsync(Id(context), context)));
        routes.MapPost("/vms/{id}/messages", Handle(context => SendAsync(Id(context), context)));
        routes.MapPost("/topics/{topic}/messages", Handle(PublishAsync));
        routes.MapPost("/vms/{id}/peers", Handle(context => LinkAsync(Id(context), context)));
        routes.MapDelete("/vms/{id}/peers/{peer}", Handle(context => UnlinkAsync(Id(context), context)));
        routes.MapPost("/groups", Handle(CreateGroupAsync));
        routes.MapGet("/groups/{name}", Handle(context => GroupAsync(Name(context), context)));
        routes.MapPost("/groups/{name}/execute", Handle(context => ExecuteGroupAsync(Name(context), context)));
        routes.MapDelete("/groups/{name}", Handle(context => RemoveGroupAsync(Name(context), context)));
        routes.MapGet("/cluster", Handle(ClusterAsync));
        routes.MapFallback(Handle(context => Task.FromResult(Error(
            StatusCodes.Status404NotFound, ApiErrors.NoRoute, $"no such endpoint: {context.Request.Method} {context.Request.Path}"))));
    }

    /// <summary>A plain request delegate that writes the handler's result, or the error it threw.</summary>
    private RequestDelegate Handle(Func<HttpContext, Task<IResult>> handler) => async context =>
    {
        var result = await ResultOf(context, handler);
        await result.ExecuteAsync(context);
    };

    /// <summary>The VM id of the route; one outside the grammar (<see cref="VmId"/>) is a 400.</summary>
    private static string Id(HttpContext context)
    {
        var id = (string)context.Request.RouteValues["id"]!;
        return VmId.Problem(id) is { } problem ? throw new BadRequestException(problem) : id;
    }

    private static string Name(HttpContext context) => (string)context.Request.RouteValues["name"]!;

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await ReadAsync<CreateVmRequest>(context);
        var id = request.Id ?? throw new BadRequestException("id must be a string");
        Require(VmId.IsValid(id), VmId.Problem(id)!);
        var vm = await manager.CreateVmAsync(id, OptionsOf(request), context.RequestAborted);
        var info = await vm.GetInfoAsync(context.RequestAborted);
        context.Response.Headers.Location = "/vms/" + Uri.EscapeDataString(id);
        return Json(StatusCodes.Status201Created, VmInfoDto.From(info));
    }

    private static VmOptions OptionsOf(VmOptionsRequest request)
    {
        Require(request.Config is null || request.Config.Values.All(value => value is not null), "config values must be strings");
        return new VmOptions
        {
            Type = request.Type ?? "basic",
            Config = request.Config,
            InitScript = request.InitScript,
            Limits = request.Limits is { } limits ? new VmLimits(limits.TimeoutMs, limits.MemoryMb, limits.OutputCapBytes, limits.InboxCapacity) : null,
            Networking = request.Networking ?? false,
        };
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        var vms = await manager.ListVmsAsync(context.RequestAborted);
        return Json(StatusCodes.Status200OK, new VmListDto(vms.Select(VmInfoDto.From).ToList()));
    }

    private async Task<IResult> InfoAsync(string id, HttpContext context) =>
        Json(StatusCodes.Status200OK, VmInfoDto.From(await manager.GetVmInfoAsync(id, context.RequestAborted)));

    private async Task<IResult> ExecuteAsync(string id, HttpContext context)
    {
        var request = await ReadAsync<ExecuteRequest>(context);
        var code = request.Code ?? throw new BadRequestException("code must be a string");
        var repl = request.Mode switch
        {
            null or "chunk" => false,
            "repl" => true,
            _ => throw new BadRequestException($"mode must be \"chunk\" or \"repl\" (got \"{request.Mode}\")"),
        };
        var options = new ExecuteOptions(request.TimeoutMs, request.MemoryMb);
        try
        {
            var result = repl
                ? await manager.EvalAsync(id, code, options, context.RequestAborted)
                : await manager.ExecuteAsync(id, code, options, context.RequestAborted);
            return Json(StatusCodes.Status200OK, ExecuteResponse.Success(result));
        }
        catch (LuaException e)
        {
            // A Lua error is a normal result of running code, not a failure of the request.
            return Json(StatusCodes.Status200OK, ExecuteResponse.Failure(e));
        }
    }

    private async Task<IResult> RemoveAsync(string id, HttpContext context)
    {
        await manager.RemoveVmAsync(id, context.RequestAborted);
        return Results.NoContent();
    }

    private async Task<IResult> ClusterAsync(HttpContext context)
    {
        var cluster = Akka.Cluster.Cluster.Get(manager.System);
        var state = cluster.State;
        var vms = await manager.ListVmsAsync(context.RequestAborted);
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
        return Json(StatusCodes.Status200OK, new ClusterDto(cluster.SelfAddress.ToString(), state.Leader?.ToString(), vms.Count, members));
    }

    private async Task<IResult> ResultOf(HttpContext context, Func<HttpContext, Task<IResult>> handler)
    {
        try
        {
            return await handler(context);
        }
        catch (BadRequestException e)
        {
            return Error(StatusCodes.Status400BadRequest, ApiErrors.InvalidRequest, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            // The body broke HTTP (too large, malformed chunks, shorter than its Content-Length,
            // too slow): the client's error, worth a debug line, not a stack trace.
            manager.System.Log.Debug("HTTP {0} {1}: refused the request body ({2}): {3}",
                context.Request.Method, context.Request.Path, e.StatusCode, e.Message);
            return e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Error(e.StatusCode, ApiJson.Name(ErrorKind.TooLarge),
                    $"the request body is larger than this node takes ({context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes)")
                // Malformed, cut short or too slow (Kestrel says 408 for the last): all 400, the
                // request as sent cannot be read.
                : Error(StatusCodes.Status400BadRequest, ApiErrors.InvalidRequest, $"bad request body: {e.Message}");
        }
        catch (LuaActorsException e)
        {
            if (ApiErrors.IsTransient(e.Kind))
            {
                context.Response.Headers.RetryAfter = "1";
            }

            return Error((int)ApiErrors.StatusOf(e.Kind), ApiJson.Name(e.Kind), e.Message);
        }
        catch (AskTimeoutException e)
        {
            return Error(StatusCodes.Status504GatewayTimeout, ApiErrors.NoAnswer, $"no answer in time: {e.Message}");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody reads the answer.
            return Results.Empty;
        }
        catch (Exception e)
        {
            await errors.WriteLineAsync(
                $"luaactors node: {context.Request.Method} {context.Request.Path} failed: {e}");
            return Error(StatusCodes.Status500InternalServerError, ApiErrors.Internal, e.Message);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpContext context) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, ApiJson.Server, context.RequestAborted)
                ?? throw new BadRequestException("the body must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"invalid request body: {e.Message}");
        }
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw new BadRequestException(problem);
        }
    }

    private static IResult Json(int status, object value) =>
        Results.Json(value, ApiJson.Server, statusCode: status);

    private static IResult Error(int status, string kind, string message) =>
        Json(status, new ErrorResponse(new ErrorDto(kind, message)));
}
