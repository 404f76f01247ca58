using System.Buffers;
using System.Text.Json;
using LuaActors.Messages;
using Microsoft.AspNetCore.Http;

namespace LuaActors.Host;

/// <summary>
/// A successful execute's 200 answer, written from the VM's reply with the bytes of its values
/// as the VM encoded them: what <see cref="ExecuteResponse.Success"/> serialises to, without the
/// response object or the serializer's metadata walk, with a Content-Length (no chunks), sent
/// when the request ends.
/// </summary>
internal static class ExecutedJson
{
    /// <summary>A buffer a thread keeps for the next answer; a larger one is let go after use.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    private static readonly JsonWriterOptions Options = new() { Encoder = ApiJson.Server.Encoder, SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    public static void Write(HttpResponse response, Executed result)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var json = t_json ??= new Utf8JsonWriter(buffer, Options);
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteBoolean("ok", true);
        json.WriteNumber("count", result.Count);
        json.WritePropertyName("values");
        // The VM's encoder wrote valid JSON; re-encoding could turn 4.0 into 4 (RawJsonConverter).
        json.WriteRawValue(result.ValuesJson, skipInputValidation: true);
        json.WriteString("output", result.Output);
        json.WriteBoolean("outputTruncated", result.OutputTruncated);
        json.WriteEndObject();
        json.Flush();

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > KeptBufferBytes)
        {
            t_buffer = null;
            t_json = null;
        }
    }
}
