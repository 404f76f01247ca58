using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LuaActors.Configuration;
using LuaActors.Host;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// Request bodies that break HTTP, sent byte by byte over a raw socket to a real node: each is
/// the client's error (413 or 400 with the API's JSON error), never a 500.
/// </summary>
public sealed class HttpBodyTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    /// <summary>Sends <paramref name="head"/> and <paramref name="body"/> (as much body as given) and reads the answer.</summary>
    private async Task<(int Status, string Headers, JsonElement Body)> SendRawAsync(string head, byte[] body)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Url.Host, fixture.Url.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ReplaceLineEndings("\r\n") + "\r\n"));
        try
        {
            await stream.WriteAsync(body);
        }
        catch (IOException)
        {
            // The node answered and closed before taking the whole body: read its answer.
        }

        using var answer = new MemoryStream();
        using var deadline = new CancellationTokenSource(Within);
        var buffer = new byte[8192];
        while (Parse(answer.ToArray()) is null)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, deadline.Token);
            }
            catch (IOException)
            {
                // A reset after the answer (the node closes a connection whose body it refused).
                break;
            }

            if (read == 0)
            {
                break;
            }

            answer.Write(buffer, 0, read);
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        return Parse(answer.ToArray()) ?? throw new Xunit.Sdk.XunitException($"no whole HTTP answer: '{text}'");
    }

    /// <summary>The answer once it is complete (Content-Length or chunked), else null.</summary>
    private static (int Status, string Headers, JsonElement Body)? Parse(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return null;
        }

        var headers = text[..split];
        var rest = text[(split + 4)..];
        string? content = null;
        if (Header(headers, "content-length") is { } length)
        {
            var size = int.Parse(length, CultureInfo.InvariantCulture);
            content = Encoding.UTF8.GetByteCount(rest) >= size ? rest : null;
        }
        else if (Header(headers, "transfer-encoding") == "chunked")
        {
            var decoded = new StringBuilder();
            var at = 0;
            while (true)
            {
                var line = rest.IndexOf("\r\n", at, StringComparison.Ordinal);
                if (line < 0)
                {
                    return null;
                }

                var size = int.Parse(rest[at..line], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    content = decoded.ToString();
                    break;
                }

                if (rest.Length < line + 2 + size)
                {
                    return null;
                }

                decoded.Append(rest, line + 2, size);
                at = line + 2 + size + 2;
            }
        }

        if (content is null)
        {
            return null;
        }

        var status = int.Parse(headers.Split(' ')[1], CultureInfo.InvariantCulture);
        return (status, headers, JsonDocument.Parse(content).RootElement.Clone());
    }

    private static string? Header(string headers, string name) =>
        headers.Split("\r\n").Select(h => h.Split(':', 2))
            .Where(h => h.Length == 2 && h[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(h => h[1].Trim())
            .FirstOrDefault();

    private string Head(string path, params string[] headers) =>
        $"POST /{path} HTTP/1.1\nHost: {fixture.Url.Authority}\nContent-Type: application/json\n" + string.Concat(headers.Select(h => h + "\n"));

    private void AssertError(int status, string kind, (int Status, string Headers, JsonElement Body) answer)
    {
        // The client's error: no line on the node's stderr (where a 500 writes its stack trace).
        Assert.Equal("", fixture.ErrorText.ToString());
        Assert.True(status == answer.Status, $"expected {status}, got {answer.Status}: {answer.Body}");
        Assert.Contains("application/json", answer.Headers);
        var error = answer.Body.GetProperty("error");
        Assert.Equal(kind, error.GetProperty("kind").GetString());
        Assert.DoesNotContain("   at ", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_too_large()
    {
        // The 31 MB: announced, never sent; the node refuses it before reading it.
        var answer = await SendRawAsync(Head("vms", "Content-Length: 31000000"), Encoding.ASCII.GetBytes("{\"id\":"));
        AssertError(413, "too-large", answer);
        Assert.Contains(HttpBodyLimit.For(SizeLimits.Of(fixture.Node.System)).ToString(CultureInfo.InvariantCulture),
            answer.Body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_chunked_body_that_grows_over_the_limit_is_413_too_large()
    {
        var limit = HttpBodyLimit.For(SizeLimits.Of(fixture.Node.System));
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)' ');
        var body = new MemoryStream();
        for (long sent = 0; sent <= limit; sent += chunk.Length)
        {
            body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }

        var answer = await SendRawAsync(Head("vms", "Transfer-Encoding: chunked"), body.ToArray());
        AssertError(413, "too-large", answer);
    }

    [Fact]
    public async Task A_malformed_chunked_body_is_400()
    {
        var answer = await SendRawAsync(Head("vms", "Transfer-Encoding: chunked"), Encoding.ASCII.GetBytes("zz\r\n{}\r\n0\r\n\r\n"));
        AssertError(400, "invalid-request", answer);
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_is_400()
    {
        // The rest never comes: Kestrel's minimum body data rate (240 B/s after a 5 s grace)
        // ends the wait. (A client that half-closes instead gets no answer at all: Kestrel
        // takes a FIN as the client leaving.)
        var answer = await SendRawAsync(Head("vms", "Content-Length: 100"), Encoding.ASCII.GetBytes("{\"id\":"));
        AssertError(400, "invalid-request", answer);
    }

    [Fact]
    public async Task After_refusing_bodies_the_node_serves_requests()
    {
        await SendRawAsync(Head("vms", "Transfer-Encoding: chunked"), Encoding.ASCII.GetBytes("zz\r\n"));
        var id = await fixture.NewVmAsync("after-bad-body");
        using var result = await fixture.Client.PostAsync($"vms/{id}/execute", ApiAssert.Json("{\"code\":\"return 6*7\"}"));
        Assert.Contains("[42]", await result.Content.ReadAsStringAsync());
    }
}
