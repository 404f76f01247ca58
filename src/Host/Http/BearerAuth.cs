using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>
/// With a token, every request needs <c>Authorization: Bearer TOKEN</c>; 401 otherwise. A
/// WebSocket upgrade may carry it as <c>?access_token=TOKEN</c> instead, because browsers cannot
/// set headers on a WebSocket; other requests may not (URLs end up in logs and histories).
/// </summary>
internal static class BearerAuth
{
    public const string QueryParameter = "access_token";

    public static void UseBearerToken(this WebApplication app, string token)
    {
        var expected = Encoding.UTF8.GetBytes(token);
        app.Use(async (context, next) =>
        {
            // Probes (load balancers, Kubernetes) carry no token; the answer is only up or not. The
            // OpenAPI document tells the shape of the API, nothing of its VMs.
            if (HttpApi.PublicPaths.Contains(context.Request.Path.Value, StringComparer.Ordinal))
            {
                await next(context);
                return;
            }

            var header = context.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim()
                : context.WebSockets.IsWebSocketRequest ? context.Request.Query[QueryParameter].ToString()
                : null;
            if (!string.IsNullOrEmpty(given) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected))
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var message = string.IsNullOrEmpty(given)
                ? "this node requires a token: send 'Authorization: Bearer TOKEN' (luaactors --token or LUAACTORS_TOKEN)"
                : "the token is wrong";
            await context.Response.WriteAsJsonAsync(
                new ErrorResponse(new ErrorDto(ApiErrors.Unauthorized, message)), ApiJson.Server, context.RequestAborted);
        });
    }
}
