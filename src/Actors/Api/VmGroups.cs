using Akka.Actor;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LuaActors.Api;

/// <summary>One VM's (or one input's) outcome in a group operation: a result or its error, never both.</summary>
public sealed record GroupItemResult(int Index, string VmId, ExecuteResult? Result, LuaActorsException? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// VM groups for parallel work: VMs <c>NAME-1..N</c> (spread over the cluster by sharding, like
/// any VMs). Every operation reports per VM: one failure never hides the others' results.
/// </summary>
public static class VmGroups
{
    /// <summary>
    /// How many of a group's VMs are being created at once. A VM's start counts against its time
    /// limit from the moment its create is sent: a thousand started together on two cores each
    /// waited behind the others for more than the 5 s default and were killed as stuck
    /// (`crashed`). Beyond a few per core, more at once creates no faster anyway.
    /// </summary>
    internal static int CreateParallelism { get; } = Math.Max(8, 4 * Environment.ProcessorCount);

    /// <summary>
    /// Creates VMs <c>group-1</c>…<c>group-count</c>, <see cref="CreateParallelism"/> at a time.
    /// If one cannot be created, no more are started, the others are removed again and its typed
    /// error (naming that VM) is thrown.
    /// </summary>
    public static async Task<IReadOnlyList<LuaVm>> CreateGroupAsync(
        this VmManager manager, string group, int count, VmOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var created = new LuaVm?[count];
        var next = 0;
        Exception? failure = null;

        async Task CreateSomeAsync()
        {
            int index;
            while (Volatile.Read(ref failure) is null && (index = Interlocked.Increment(ref next) - 1) < count)
            {
                try
                {
                    created[index] = await manager.CreateVmAsync($"{group}-{index + 1}", options, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(count, CreateParallelism)).Select(_ => CreateSomeAsync())).ConfigureAwait(false);
        if (failure is null)
        {
            return created!;
        }

        // Best effort, as many at once: a removal that fails must not hide why the create failed.
        var removals = created.OfType<LuaVm>().Select(async vm =>
        {
            try
            {
                await manager.RemoveVmAsync(vm.Id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LuaActorsException or AskTimeoutException or ObjectDisposedException)
            {
                // Left for `group rm`; the create's own error is what the caller needs.
            }
        });
        await Task.WhenAll(removals).ConfigureAwait(false);
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return null!;
    }

    /// <summary>The ids of the group's VMs, in member order.</summary>
    public static async Task<IReadOnlyList<string>> GroupMembersAsync(
        this VmManager manager, string group, CancellationToken cancellationToken = default)
    {
        var member = new Regex("^" + Regex.Escape(group) + "-([0-9]+)$");
        return (await manager.ListVmsAsync(cancellationToken).ConfigureAwait(false))
            .Select(vm => (vm.VmId, Match: member.Match(vm.VmId)))
            .Where(vm => vm.Match.Success)
            .OrderBy(vm => long.Parse(vm.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .Select(vm => vm.VmId)
            .ToList();
    }

    /// <summary>Runs <paramref name="code"/> on every VM of the group at once; one result or error per VM.</summary>
    public static async Task<IReadOnlyList<GroupItemResult>> BroadcastAsync(
        this VmManager manager, string group, string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default)
    {
        var members = await manager.RequireGroupMembersAsync(group, cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(members.Select((vmId, index) =>
            RunAsync(manager, index, vmId, code, options, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Spreads <paramref name="inputs"/> over the group's VMs (round robin, all in flight at once)
    /// and returns one result per input, in input order. <paramref name="code"/> is a chunk that
    /// gets its input as <c>...</c> (e.g. <c>local n = ... return n * n</c>); inputs are converted
    /// to Lua values like <see cref="VmManager.SendAsync"/>'s (<see cref="LuaValueJson.Encode"/>:
    /// a whole <c>2.0</c> stays a float, <c>byte[]</c> becomes a string with those bytes).
    /// </summary>
    public static async Task<IReadOnlyList<GroupItemResult>> MapAsync<TInput>(
        this VmManager manager, string group, string code, IEnumerable<TInput> inputs,
        ExecuteOptions? options = null, CancellationToken cancellationToken = default)
    {
        var members = await manager.RequireGroupMembersAsync(group, cancellationToken).ConfigureAwait(false);
        var calls = inputs.Select((input, index) =>
        {
            var chunk = $"return (function(...)\n{code}\nend)({LuaLiteral.FromValue(input)})";
            return RunAsync(manager, index, members[index % members.Count], chunk, options, cancellationToken);
        }).ToList();
        return await Task.WhenAll(calls).ConfigureAwait(false);
    }

    /// <summary>Removes every VM of the group; returns how many.</summary>
    public static async Task<int> RemoveGroupAsync(this VmManager manager, string group, CancellationToken cancellationToken = default)
    {
        var members = await manager.GroupMembersAsync(group, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(members.Select(id => manager.RemoveVmAsync(id, cancellationToken))).ConfigureAwait(false);
        return members.Count;
    }

    /// <summary>The group's VM ids, in order; <see cref="VmNotFoundException"/> when it has none.</summary>
    public static async Task<IReadOnlyList<string>> RequireGroupMembersAsync(this VmManager manager, string group, CancellationToken cancellationToken = default)
    {
        var members = await manager.GroupMembersAsync(group, cancellationToken).ConfigureAwait(false);
        return members.Count > 0
            ? members
            : throw new VmNotFoundException(group, $"no VMs in group '{group}' (expected ids {group}-1, {group}-2, …)");
    }

    private static async Task<GroupItemResult> RunAsync(
        VmManager manager, int index, string vmId, string code, ExecuteOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            return new GroupItemResult(index, vmId, await manager.ExecuteAsync(vmId, code, options, cancellationToken).ConfigureAwait(false), null);
        }
        catch (LuaActorsException e)
        {
            return new GroupItemResult(index, vmId, null, e);
        }
    }
}

/// <summary>
/// JSON values as Lua source literals (for passing inputs into a chunk), read the way the VM's
/// own JSON decoder reads a message (docs/protocol.md §7): numbers as written (a dot or an
/// exponent makes a float), the <c>{"$type":"bytes"}</c> and <c>{"$type":"float"}</c>
/// placeholders as the string and float they stand for, object names that are canonical
/// integers as integer keys and <c>"$bytes:…"</c> names as byte-string keys.
/// </summary>
internal static partial class LuaLiteral
{
    public static string FromJson(JsonElement value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    /// <summary>A .NET value as a Lua literal, converted like <see cref="LuaValueJson.Encode"/> (2.0 stays a float).</summary>
    public static string FromValue(object? value)
    {
        using var json = JsonDocument.Parse(LuaValueJson.Encode(value), new JsonDocumentOptions { MaxDepth = 256 });
        return FromJson(json.RootElement);
    }

    private static void Write(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                text.Append("nil");
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            case JsonValueKind.Number:
                // JSON number syntax is valid Lua; a dot or exponent makes it a float there too.
                text.Append(value.GetRawText());
                break;
            case JsonValueKind.String:
                WriteString(text, Encoding.UTF8.GetBytes(value.GetString()!));
                break;
            case JsonValueKind.Array:
                text.Append('{');
                foreach (var item in value.EnumerateArray())
                {
                    Write(text, item);
                    text.Append(',');
                }

                text.Append('}');
                break;
            default:
                if (Placeholder(value) is { } literal)
                {
                    text.Append(literal);
                    break;
                }

                text.Append('{');
                foreach (var property in value.EnumerateObject())
                {
                    text.Append('[');
                    WriteKey(text, property.Name);
                    text.Append("]=");
                    Write(text, property.Value);
                    text.Append(',');
                }

                text.Append('}');
                break;
        }
    }

    /// <summary>The literal for a <c>{"$type":"bytes"|"float", …}</c> placeholder of exactly two members; null for any other object.</summary>
    private static string? Placeholder(JsonElement value)
    {
        if (!value.TryGetProperty("$type", out var type) || type.ValueKind != JsonValueKind.String || value.EnumerateObject().Count() != 2)
        {
            return null;
        }

        switch (type.GetString())
        {
            case "bytes" when value.TryGetProperty("base64", out var base64) && base64.ValueKind == JsonValueKind.String
                && StrictBase64(base64.GetString()!) is { } bytes:
                var text = new StringBuilder();
                WriteString(text, bytes);
                return text.ToString();
            case "float" when value.TryGetProperty("value", out var special) && special.ValueKind == JsonValueKind.String:
                // Divisions by zero: Lua does not fold them, so they are floats made at run time.
                return special.GetString() switch
                {
                    "nan" => "(0/0)",
                    "inf" => "(1/0)",
                    "-inf" => "(-1/0)",
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static void WriteKey(StringBuilder text, string name)
    {
        if ((name == "0" || CanonicalInteger().IsMatch(name))
            && long.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            text.Append(integer.ToString(CultureInfo.InvariantCulture));
        }
        else if (name.StartsWith("$bytes:", StringComparison.Ordinal) && StrictBase64(name["$bytes:".Length..]) is { } bytes)
        {
            WriteString(text, bytes);
        }
        else
        {
            WriteString(text, Encoding.UTF8.GetBytes(name));
        }
    }

    /// <summary>Base64 as the VM reads it: whole groups of four, padding only at the end, no white space.</summary>
    private static byte[]? StrictBase64(string text)
    {
        if (text.Length % 4 != 0 || !Base64Text().IsMatch(text))
        {
            return null;
        }

        var bytes = new byte[text.Length / 4 * 3];
        return Convert.TryFromBase64String(text, bytes, out var written) ? bytes[..written] : null;
    }

    private static void WriteString(StringBuilder text, byte[] value)
    {
        text.Append('"');
        foreach (var b in value)
        {
            // Decimal escapes for everything outside printable ASCII: safe in any Lua source.
            if (b is >= 0x20 and < 0x7f && b != '"' && b != '\\')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('\\').Append(b.ToString("000", CultureInfo.InvariantCulture));
            }
        }

        text.Append('"');
    }

    [GeneratedRegex("^-?[1-9][0-9]*$", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalInteger();

    [GeneratedRegex("^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Base64Text();
}
