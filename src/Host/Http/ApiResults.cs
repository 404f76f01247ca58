using Akka.Actor;
using Akka.Event;
using LuaActors.Api;
using LuaActors.Messages;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LuaActors.Host;

/// <summary>
/// Every answer of the HTTP API is made here: JSON bodies, and the ONE mapping of typed errors
/// (<see cref="ErrorKind"/>, a request the API refuses, a missing answer) to status codes
/// (docs/api.md, "Status codes"). Handlers return a refusal as a result; what the
/// <see cref="VmManager"/> throws reaches <see cref="ErrorFilter"/>.
/// </summary>
internal static class ApiResults
{
    public static IResult Json(int status, object value) => Results.Json(value, ApiJson.Server, statusCode: status);

    public static IResult Ok(object value) => Json(StatusCodes.Status200OK, value);

    /// <summary>A request the API refuses as sent: 400 invalid-request.</summary>
    public static IResult Invalid(string problem) => Error(StatusCodes.Status400BadRequest, ApiErrors.InvalidRequest, problem);

    public static IResult NoRoute(HttpRequest request) =>
        Error(StatusCodes.Status404NotFound, ApiErrors.NoRoute, $"no such endpoint: {request.Method} {request.Path}");

    /// <summary>A failure of the library, with its kind's status (and Retry-After when a retry may succeed).</summary>
    public static IResult Failure(LuaActorsException e, HttpContext context)
    {
        if (e.Kind.IsTransient())
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return Error((int)ApiErrors.StatusOf(e.Kind), ApiJson.Name(e.Kind), e.Message);
    }

    public static IResult Error(int status, string kind, string message) =>
        Json(status, new ErrorResponse(new ErrorDto(kind, message)));

    /// <summary>What a handler's awaited call threw, as the API answers it.</summary>
    public static async ValueTask<object?> ErrorFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        try
        {
            return await next(invocation);
        }
        catch (Exception e)
        {
            return await ForExceptionAsync(e, invocation.HttpContext);
        }
    }

    /// <summary>
    /// The answer to what a handler threw (<see cref="ErrorFilter"/>, and the handlers that run
    /// without it: VmEndpoints.ExecuteAsync).
    /// </summary>
    public static async ValueTask<IResult> ForExceptionAsync(Exception exception, HttpContext context)
    {
        switch (exception)
        {
            case LuaActorsException e:
                return Failure(e, context);
            case BadHttpRequestException e:
                return BadBody(e, context);
            case AskTimeoutException e:
                return Error(StatusCodes.Status504GatewayTimeout, ApiErrors.NoAnswer, $"no answer in time: {e.Message}");
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                // The client went away; nobody reads the answer.
                return Results.Empty;
            default:
                await context.RequestServices.GetRequiredService<HttpErrorLog>().Writer.WriteLineAsync(
                    $"luaactors node: {context.Request.Method} {context.Request.Path} failed: {exception}");
                return Error(StatusCodes.Status500InternalServerError, ApiErrors.Internal, exception.Message);
        }
    }

    /// <summary>
    /// The body broke HTTP (too large, malformed chunks, shorter than its Content-Length, too
    /// slow): the client's error, worth a debug line, not a stack trace.
    /// </summary>
    public static IResult BadBody(BadHttpRequestException e, HttpContext context)
    {
        context.RequestServices.GetRequiredService<Akka.Actor.ActorSystem>().Log.Debug(
            "HTTP {0} {1}: refused the request body ({2}): {3}", context.Request.Method, context.Request.Path, e.StatusCode, e.Message);
        return e.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? Error(e.StatusCode, ApiJson.Name(ErrorKind.TooLarge),
                $"the request body is larger than this node takes ({context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes)")
            // Malformed, cut short or too slow (Kestrel says 408 for the last): all 400, the
            // request as sent cannot be read.
            : Error(StatusCodes.Status400BadRequest, ApiErrors.InvalidRequest, $"bad request body: {e.Message}");
    }
}

/// <summary>Where the HTTP API writes its internal errors (the node's stderr; a test's writer).</summary>
internal sealed record HttpErrorLog(TextWriter Writer);
