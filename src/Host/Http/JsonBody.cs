using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>
/// A request body read as <typeparamref name="T"/>, or the answer refusing it: the handler
/// returns <see cref="Refusal"/> as it is, no exception in between.
/// </summary>
internal readonly record struct JsonBody<T>(T? Value, IResult? Refusal) where T : class
{
    public static async Task<JsonBody<T>> ReadAsync(HttpContext context)
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(context.Request.Body, ApiJson.Server, context.RequestAborted);
            return value is null
                ? new(null, ApiResults.Invalid("the body must be a JSON object, not null"))
                : new(value, null);
        }
        catch (JsonException e)
        {
            return new(null, ApiResults.Invalid($"invalid request body: {e.Message}"));
        }
        catch (BadHttpRequestException e)
        {
            return new(null, ApiResults.BadBody(e, context));
        }
    }
}
