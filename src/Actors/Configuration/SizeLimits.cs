using System.Text;
using Akka.Actor;
using Akka.Configuration;
using LuaActors.Messages;
using LuaActors.Messages.Serialization;

namespace LuaActors.Configuration;

/// <summary>
/// The <c>luaactors.limits</c> section: how big a request's code, a result, a request's printed
/// output and any one message may be. Enforced before anything is sent, on every node alike
/// (local or remote VM), with a <see cref="ErrorKind.TooLarge"/> answer at once: a message over
/// Akka's remoting frame limit would otherwise be dropped with a log line while its sender waits.
/// </summary>
public sealed record SizeLimits(long MaxCodeSize, long MaxResultSize, long MaxOutputSize, long MaxMessageSize)
{
    /// <summary>
    /// Room kept under the remoting frame for what Akka wraps a message in (recipient and sender
    /// paths, manifests: well under 1 KiB in practice).
    /// </summary>
    public const long EnvelopeHeadroom = 64 * 1024;

    private const string FrameSizeKey = "akka.remote.dot-netty.tcp.maximum-frame-size";

    /// <summary>Akka's own default for <see cref="FrameSizeKey"/>.</summary>
    private const long AkkaDefaultFrameSize = 128000;

    /// <summary>Fixed parts of a serialized message besides its large strings (field names, ids, numbers).</summary>
    private const long FixedPart = 4096;

    /// <summary>Reads and checks the section; with remoting on, every message must fit one frame.</summary>
    public static SizeLimits From(Config config)
    {
        var section = config.GetConfig("luaactors.limits")
            ?? throw new ConfigurationException("Missing luaactors.limits section (is hocon/luaactors.conf the fallback?).");

        long Size(string key) =>
            section.GetByteSize(key) is { } size and > 0
                ? size
                : throw new ConfigurationException($"luaactors.limits.{key} must be a positive size such as 1MiB.");

        var limits = new SizeLimits(Size("max-code-size"), Size("max-result-size"), Size("max-output-size"), Size("max-message-size"));
        foreach (var (key, value) in new[] { ("max-code-size", limits.MaxCodeSize), ("max-result-size", limits.MaxResultSize), ("max-output-size", limits.MaxOutputSize) })
        {
            if (value > limits.MaxMessageSize)
            {
                throw new ConfigurationException($"luaactors.limits.{key} ({value} bytes) must not exceed max-message-size ({limits.MaxMessageSize} bytes).");
            }
        }

        var provider = config.GetString("akka.actor.provider", "");
        if (provider.Contains("cluster", StringComparison.OrdinalIgnoreCase) || provider.Contains("remote", StringComparison.OrdinalIgnoreCase))
        {
            var frame = config.GetByteSize(FrameSizeKey) ?? AkkaDefaultFrameSize;
            if (limits.MaxMessageSize + EnvelopeHeadroom > frame)
            {
                throw new ConfigurationException(
                    $"luaactors.limits.max-message-size ({limits.MaxMessageSize} bytes) plus {EnvelopeHeadroom} bytes of envelope must fit " +
                    $"{FrameSizeKey} ({frame} bytes): raise the frame size or lower the limit.");
            }
        }

        return limits;
    }

    /// <summary>This actor system's limits (read once).</summary>
    public static SizeLimits Of(ActorSystem system) => system.WithExtension<SizeLimitsExtension, SizeLimitsProvider>().Limits;

    /// <summary>
    /// Null when <paramref name="command"/> may be sent; otherwise the <see cref="ErrorKind.TooLarge"/>
    /// answer: its code (an execute's chunk, an init script, a session line) is over
    /// <see cref="MaxCodeSize"/> UTF-8 bytes, or the whole message over <see cref="MaxMessageSize"/>.
    /// </summary>
    public RequestFailed? CheckRequest(IVmCommand command)
    {
        var code = command switch
        {
            Execute execute => execute.Code,
            CreateVm create => create.Spec.InitScript,
            SendSessionInput input => input.Line,
            _ => null,
        };
        if (code is not null && code.Length > MaxCodeSize / 3 && Encoding.UTF8.GetByteCount(code) is var bytes && bytes > MaxCodeSize)
        {
            return new RequestFailed(command.VmId ?? "", ErrorKind.TooLarge,
                $"the code is {bytes} bytes, over luaactors.limits.max-code-size ({MaxCodeSize} bytes)");
        }

        return OverMessageSize(command) is { } size
            ? new RequestFailed(command.VmId ?? "", ErrorKind.TooLarge,
                $"the {command.GetType().Name} request is {size} bytes serialized, over luaactors.limits.max-message-size ({MaxMessageSize} bytes)")
            : null;
    }

    /// <summary>
    /// <paramref name="reply"/>, or a <see cref="ErrorKind.TooLarge"/> failure in its place when it
    /// is over <see cref="MaxMessageSize"/> serialized (a result and its output, an error with a huge message).
    /// </summary>
    public ILuaActorsMessage CheckReply(string vmId, ILuaActorsMessage reply) =>
        OverMessageSize(reply) is { } size
            ? new RequestFailed(vmId, ErrorKind.TooLarge,
                $"the reply ({Describe(reply)}) is {size} bytes serialized, over luaactors.limits.max-message-size ({MaxMessageSize} bytes); " +
                "return or print less (the VM keeps its state)")
            : reply;

    /// <summary>The serialized size when it is over the limit; null when it fits (measured only when it might not).</summary>
    private long? OverMessageSize(ILuaActorsMessage message)
    {
        // A UTF-16 character serializes to at most 6 bytes (\uXXXX): most messages need no measuring.
        var chars = message switch
        {
            Execute execute => (long)(execute.Code?.Length ?? 0),
            CreateVm create => (create.Spec.InitScript?.Length ?? 0) + create.Spec.Config.Sum(pair => (long)pair.Key.Length + pair.Value.Length),
            SendSessionInput input => input.Line?.Length ?? 0,
            DeliverMessage deliver => deliver.ValueJson?.Length ?? 0,
            Executed executed => (long)executed.ValuesJson.Length + executed.Output.Length,
            RequestFailed failed => (long)failed.Message.Length + failed.Traceback.Length + failed.Output.Length,
            SessionInputEvaluated evaluated => (long)evaluated.Input.Length + evaluated.Output.Length + (evaluated.ValuesJson?.Length ?? 0) + (evaluated.Error?.Length ?? 0),
            _ => 0L,
        };
        if (chars * 6 + FixedPart <= MaxMessageSize)
        {
            return null;
        }

        var size = LuaActorsSerializer.SizeOf(message);
        return size > MaxMessageSize ? size : null;
    }

    private static string Describe(ILuaActorsMessage reply) => reply switch
    {
        Executed executed => $"{executed.Count} values in {executed.ValuesJson.Length} characters, {executed.Output.Length} characters of output",
        RequestFailed failed => $"a {failed.Kind} error",
        _ => reply.GetType().Name,
    };
}

/// <summary>Holds <see cref="SizeLimits"/> for one actor system.</summary>
public sealed class SizeLimitsExtension(ExtendedActorSystem system) : IExtension
{
    public SizeLimits Limits { get; } = SizeLimits.From(system.Settings.Config.WithFallback(LuaActorsConfig.Default));
}

public sealed class SizeLimitsProvider : ExtensionIdProvider<SizeLimitsExtension>
{
    public override SizeLimitsExtension CreateExtension(ExtendedActorSystem system) => new(system);
}
