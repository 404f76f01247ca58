using System.Net;
using System.Text;
using System.Text.Json;

namespace LuaActors.Tests.Support;

/// <summary>Checks on the node's HTTP answers.</summary>
internal static class ApiAssert
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The answer is <paramref name="status"/> with the API's error JSON of <paramref name="kind"/>.</summary>
    public static async Task ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(kind, error.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }
}
