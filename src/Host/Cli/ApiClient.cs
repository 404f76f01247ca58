using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace LuaActors.Host.Cli;

/// <summary>The node cannot be reached (refused, unknown host, no answer in time): exit 1.</summary>
internal sealed class NodeUnreachableException(string message) : Exception(message);

/// <summary>One answer of the node: its status and its JSON body as sent.</summary>
internal sealed record ApiResponse(HttpStatusCode Status, string Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public T Read<T>() =>
        JsonSerializer.Deserialize<T>(Body, ApiJson.Client)
        ?? throw new JsonException($"the node answered {(int)Status} with an empty body");

    /// <summary>The error of a failed request as "kind: message".</summary>
    public string ErrorText()
    {
        try
        {
            var error = JsonSerializer.Deserialize<ErrorResponse>(Body, ApiJson.Client)?.Error;
            if (error is not null)
            {
                return $"{error.Kind}: {error.Message}";
            }
        }
        catch (JsonException)
        {
            // Not our JSON (a proxy's page, say): show what came.
        }

        var text = Body.Length > 200 ? Body[..200] + "…" : Body;
        return $"http-{(int)Status}: {(text.Length > 0 ? text : Status.ToString())}";
    }
}

/// <summary>The HTTP API of one node, for the client commands.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(Uri node, string? token, TimeSpan timeout)
    {
        Node = node;
        _http = new HttpClient { BaseAddress = node, Timeout = timeout };
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Node { get; }

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<ApiResponse> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    /// <summary>The API path of one VM (its id escaped).</summary>
    public static string VmPath(string id) => "vms/" + Uri.EscapeDataString(id);

    public void Dispose() => _http.Dispose();

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Client);
        }

        try
        {
            using var response = await _http.SendAsync(request);
            return new ApiResponse(response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            throw new NodeUnreachableException($"cannot reach the node at {Node}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new NodeUnreachableException(
                $"the node at {Node} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }
}
