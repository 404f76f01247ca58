using System.Globalization;
using System.Text;
using System.Text.Json;
using LuaActors.Api;
using LuaActors.Messages;

namespace LuaActors.TestKit;

/// <summary>
/// Assertions on Lua code run in a VM, for any xunit test (<see cref="LuaActorsTestKit"/> has them
/// as <c>AssertLuaAsync</c>, <c>AssertLuaErrorAsync</c>…). A failure throws
/// <see cref="LuaAssertException"/> whose message shows the code, the expected and the actual
/// value (or error) with their Lua types, and what the code printed. Values compare as
/// <see cref="LuaValues"/> says: <c>4</c> matches a Lua integer, <c>4.0</c> a Lua float.
/// </summary>
public static class LuaAssert
{
    /// <summary>
    /// Runs <paramref name="code"/> in <paramref name="vm"/> and asserts that it returned exactly one
    /// value equal to <paramref name="expected"/> (<c>null</c>: nil, or no value at all).
    /// Returns the result, for more checks (its <see cref="ExecuteResult.Output"/>, say).
    /// </summary>
    public static async Task<ExecuteResult> ReturnsAsync(LuaVm vm, string code, object? expected, ExecuteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var want = LuaValues.ToJson(expected);
        var result = await RunAsync(vm, code, options, Describe(want)).ConfigureAwait(false);
        var matches = result.Count == 1
            ? LuaValues.AreEqual(want, result.Value)
            : result.Count == 0 && want.ValueKind == JsonValueKind.Null;
        if (!matches)
        {
            throw Failure("Lua result differs", vm, code, Describe(want), DescribeValues(result), result.Output);
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="code"/> and asserts that it returned exactly these values, in order
    /// (<c>return 1, "two", {3}</c> matches <c>1, "two", new[] { 3 }</c>; none matches no value).
    /// </summary>
    public static async Task<ExecuteResult> ReturnsValuesAsync(LuaVm vm, string code, params object?[] expected)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(expected);
        var want = expected.Select(LuaValues.ToJson).ToList();
        var wanted = want.Count == 0 ? "no value" : string.Join(", ", want.Select(Describe));
        var result = await RunAsync(vm, code, null, wanted).ConfigureAwait(false);
        if (result.Count != want.Count || !want.Zip(result.Values).All(pair => LuaValues.AreEqual(pair.Item1, pair.Item2)))
        {
            throw Failure("Lua results differ", vm, code, $"{Count(want.Count)}: {wanted}", DescribeValues(result), result.Output);
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="code"/> and asserts that it failed with a typed error of
    /// <paramref name="kind"/> (Syntax, Runtime, Timeout, Memory… or any other
    /// <see cref="ErrorKind"/> the API throws), whose message contains
    /// <paramref name="messageContains"/> when given. Returns the exception
    /// (a <see cref="LuaException"/> for errors of Lua code: its traceback and output).
    /// </summary>
    public static async Task<LuaActorsException> FailsAsync(
        LuaVm vm, string code, ErrorKind kind, string? messageContains = null, ExecuteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var wanted = $"a {kind} error" + (messageContains is null ? "" : $" whose message contains \"{messageContains}\"");
        ExecuteResult result;
        try
        {
            result = await vm.ExecuteAsync(code, options).ConfigureAwait(false);
        }
        catch (LuaActorsException e)
        {
            if (e.Kind != kind || (messageContains is not null && !e.Message.Contains(messageContains, StringComparison.Ordinal)))
            {
                throw Failure("Lua error differs", vm, code, wanted, DescribeError(e), (e as LuaException)?.Output ?? "");
            }

            return e;
        }

        throw Failure("Lua code did not fail", vm, code, wanted, "it returned " + DescribeValues(result), result.Output);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the next value the VM sends to its host
    /// (<c>vm.send('$host', value)</c>) and returns it; fails when none comes in time.
    /// </summary>
    public static async Task<JsonElement> ReceivesFromVmAsync(LuaVm vm, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return await vm.ReceiveFromVmAsync(timeout).ConfigureAwait(false)
            ?? throw new LuaAssertException(
                $"VM '{vm.Id}' sent nothing to its host (vm.send('$host', …)) within {Seconds(timeout)}");
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the next value the VM sends to its host and
    /// asserts that it equals <paramref name="expected"/>.
    /// </summary>
    public static async Task<JsonElement> ReceivesFromVmAsync(LuaVm vm, TimeSpan timeout, object? expected)
    {
        var value = await ReceivesFromVmAsync(vm, timeout).ConfigureAwait(false);
        var want = LuaValues.ToJson(expected);
        if (!LuaValues.AreEqual(want, value))
        {
            throw new LuaAssertException(
                $"VM '{vm.Id}' sent its host another value{Environment.NewLine}" +
                $"  expected: {Describe(want)}{Environment.NewLine}" +
                $"  actual:   {Describe(value)}");
        }

        return value;
    }

    /// <summary>
    /// Takes the next message from the VM's inbox (as its own Lua code would, with
    /// <c>vm.receive</c>), waiting up to <paramref name="timeout"/>; fails when none comes.
    /// The VM must not be busy meanwhile: this runs as one request on it. Waiting needs LuaSocket
    /// (the <c>lua-socket</c> package).
    /// </summary>
    public static async Task<InboxMessage> InboxReceivesAsync(LuaVm vm, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var seconds = timeout.TotalSeconds.ToString("R", CultureInfo.InvariantCulture);
        var code = $"""
            local value, from, topic = vm.receive({seconds})
            if value == nil and from == nil then return false end
            return true, value, from, topic
            """;
        // The request may run as long as the wait, and a little longer.
        var limit = new ExecuteOptions(TimeoutMs: (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds + 5_000));
        var result = await RunAsync(vm, code, limit, "a message in the inbox").ConfigureAwait(false);
        if (result.Get<bool>(0) != true)
        {
            throw new LuaAssertException($"VM '{vm.Id}' received no message in its inbox within {Seconds(timeout)}");
        }

        return new InboxMessage(result.Values[1], TextOrNull(result, 2), TextOrNull(result, 3));
    }

    /// <summary>
    /// Reads the session's output until it contains <paramref name="expected"/>, for up to
    /// <paramref name="timeout"/>, and returns all that was read; fails showing what came
    /// otherwise.
    /// </summary>
    public static async Task<string> OutputContainsAsync(VmSession session, string expected, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(expected);
        var text = new StringBuilder();
        var deadline = DateTime.UtcNow + timeout;
        while (!text.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || session.IsEnded)
            {
                throw new LuaAssertException(
                    $"session {session.SessionId} on VM '{session.VmId}' did not show \"{expected}\"" +
                    (session.IsEnded ? " before it ended" : $" within {Seconds(timeout)}") + Environment.NewLine +
                    $"  output: {(text.Length == 0 ? "(nothing)" : Block(text.ToString()))}");
            }

            text.Append(await session.ReadOutputAsync(left).ConfigureAwait(false));
        }

        return text.ToString();
    }

    private static async Task<ExecuteResult> RunAsync(LuaVm vm, string code, ExecuteOptions? options, string wanted)
    {
        ArgumentNullException.ThrowIfNull(code);
        try
        {
            return await vm.ExecuteAsync(code, options).ConfigureAwait(false);
        }
        catch (LuaActorsException e)
        {
            throw Failure("Lua code failed", vm, code, wanted, DescribeError(e), (e as LuaException)?.Output ?? "", e);
        }
    }

    private static LuaAssertException Failure(
        string what, LuaVm vm, string code, string expected, string actual, string output, LuaActorsException? error = null)
    {
        var nl = Environment.NewLine;
        var message = $"{what} on VM '{vm.Id}'{nl}" +
            $"  code:     {Block(code)}{nl}" +
            $"  expected: {expected}{nl}" +
            $"  actual:   {actual}{nl}" +
            $"  output:   {(output.Length == 0 ? "(nothing printed)" : Block(output))}";
        if (error is LuaException { Traceback.Length: > 0 } lua)
        {
            message += $"{nl}  traceback: {Block(lua.Traceback)}";
        }

        return new LuaAssertException(message);
    }

    private static string DescribeValues(ExecuteResult result) => result.Count switch
    {
        0 => "no value",
        1 => Describe(result.Value),
        var n => $"{Count(n)}: {string.Join(", ", result.Values.Select(Describe))}",
    };

    private static string DescribeError(LuaActorsException e) => $"{e.Kind} error: {e.Message}";

    private static string Describe(JsonElement value) => LuaValues.Describe(value);

    private static string Count(int n) => n == 1 ? "1 value" : $"{n} values";

    private static string Seconds(TimeSpan timeout) => $"{timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";

    private static string? TextOrNull(ExecuteResult result, int index) =>
        result.Count > index && result.Values[index].ValueKind == JsonValueKind.String ? result.Values[index].GetString() : null;

    /// <summary>Several lines indented under their label; one line as it is.</summary>
    private static string Block(string text)
    {
        var trimmed = text.TrimEnd('\n', '\r');
        return trimmed.Contains('\n', StringComparison.Ordinal)
            ? Environment.NewLine + string.Join(Environment.NewLine, trimmed.Split('\n').Select(line => "    | " + line.TrimEnd('\r')))
            : trimmed;
    }
}
