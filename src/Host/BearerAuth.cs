using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>With a token, every request needs <c>Authorization: Bearer TOKEN</c>; 401 otherwise.</summary>
internal static class BearerAuth
{
    public static void UseBearerToken(this WebApplication app, string token)
    {
        var expected = Encoding.UTF8.GetBytes(token);
        app.Use(async (context, next) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), expected))
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var message = header.Length == 0
                ? "this node requires a token: send 'Authorization: Bearer TOKEN' (luaactors --token or LUAACTORS_TOKEN)"
                : "the token is wrong";
            await context.Response.WriteAsJsonAsync(
                new ErrorResponse(new ErrorDto(ApiErrors.Unauthorized, message)), ApiJson.Server, context.RequestAborted);
        });
    }
}
