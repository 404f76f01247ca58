using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using LuaActors.Configuration;

namespace LuaActors.Api;

/// <summary>
/// LuaActors' settings for <see cref="AkkaHostingExtensions.WithLuaActors(Akka.Hosting.AkkaConfigurationBuilder, LuaActorsOptions)"/>
/// and <see cref="VmManagerOptions.LuaActors"/>. Every property maps to one key of
/// hocon/luaactors.conf (named in its summary); a null property keeps that key as the HOCON has it.
/// Precedence, highest first: these properties, <see cref="Hocon"/>, the application's own HOCON
/// (<c>AddHocon</c>), hocon/luaactors.conf. <see cref="Validate"/> runs at start and throws
/// <see cref="LuaActorsConfigurationException"/> naming the key and the values it takes.
/// </summary>
public sealed class LuaActorsOptions
{
    /// <summary><c>luaactors.vm.default-timeout</c>: a request's time limit when neither it nor its VM sets one (5s).</summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary><c>luaactors.vm.kill-grace</c>: how long past its limit a request stuck in C may run before the process is killed (1s).</summary>
    public TimeSpan? KillGrace { get; set; }

    /// <summary><c>luaactors.vm.memory-limit</c>: the Lua heap limit of one VM, in bytes (64MiB).</summary>
    public long? MemoryLimitBytes { get; set; }

    /// <summary><c>luaactors.vm.output-cap</c>: captured print output per request, in bytes (1MiB).</summary>
    public long? OutputCapBytes { get; set; }

    /// <summary><c>luaactors.vm.max-buffered-requests</c>: requests that wait while a VM (re)starts (10000).</summary>
    public int? MaxBufferedRequests { get; set; }

    /// <summary><c>luaactors.vm.messaging.inbox-capacity</c>: messages a VM's inbox holds (1000).</summary>
    public int? InboxCapacity { get; set; }

    /// <summary><c>luaactors.vm.networking</c>: the network rule of VMs created with networking on.</summary>
    public NetworkingOptions Networking { get; set; } = new();

    /// <summary><c>luaactors.limits</c>: the size limits, the same on every node.</summary>
    public SizeLimitOptions Limits { get; set; } = new();

    /// <summary>
    /// <c>luaactors.vm-types.NAME</c>: VM types to add, or settings of existing ones
    /// (<c>basic</c>, <c>xcpng</c>) to change; keys a type entry leaves null keep their HOCON value.
    /// </summary>
    public IDictionary<string, VmTypeOptions> Types { get; } = new Dictionary<string, VmTypeOptions>(StringComparer.Ordinal);

    /// <summary><c>luaactors.cluster.number-of-shards</c>: shards of the "vm" region in a cluster (100).</summary>
    public int? NumberOfShards { get; set; }

    /// <summary><c>luaactors.persistence</c>: where VM specs are kept (off unless set; docs/configuration.md, "Persistence").</summary>
    public PersistenceOptions Persistence { get; set; } = new();

    /// <summary>HOCON text laid over the application's HOCON and hocon/luaactors.conf, under the properties above.</summary>
    public string? Hocon { get; set; }

    /// <summary>
    /// Checks every property set (and that <see cref="Hocon"/> parses); the first problem throws.
    /// The whole configuration is checked again when the actor system starts (see
    /// <see cref="LuaActorsConfigurationException.Check"/>).
    /// </summary>
    /// <exception cref="LuaActorsConfigurationException">A value out of range, naming the key and what it takes.</exception>
    public void Validate()
    {
        Positive(DefaultTimeout, "luaactors.vm.default-timeout");
        if (KillGrace is { } grace && grace < TimeSpan.Zero)
        {
            throw new LuaActorsConfigurationException("luaactors.vm.kill-grace", $"{grace} is negative", "a duration of 0 or more");
        }

        AtLeast(MemoryLimitBytes, 1 << 20, "luaactors.vm.memory-limit", "a size of at least 1MiB (1048576 bytes)");
        AtLeast(OutputCapBytes, 0, "luaactors.vm.output-cap", "a size of 0 bytes or more");
        AtLeast(MaxBufferedRequests, 1, "luaactors.vm.max-buffered-requests", "a whole number of 1 or more");
        AtLeast(InboxCapacity, 1, "luaactors.vm.messaging.inbox-capacity", "a whole number of 1 or more");
        AtLeast(NumberOfShards, 1, "luaactors.cluster.number-of-shards", "a whole number of 1 or more");
        Networking.Validate();
        Limits.Validate();
        Persistence.Validate();
        foreach (var (name, type) in Types)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                throw new LuaActorsConfigurationException("luaactors.vm-types", $"the type name '{name}' is not a HOCON key", "names of letters, digits, '-' and '_'");
            }

            type.Validate(name);
        }

        if (!string.IsNullOrWhiteSpace(Hocon))
        {
            try
            {
                LuaActorsConfig.Parse(Hocon, "LuaActorsOptions.Hocon");
            }
            catch (ConfigurationException e)
            {
                throw new LuaActorsConfigurationException("LuaActorsOptions.Hocon", e.Message, "HOCON text that stands on its own");
            }
        }
    }

    /// <summary>The properties set, as HOCON over <see cref="Hocon"/>; empty when nothing is set.</summary>
    internal Config ToConfig()
    {
        var hocon = new HoconWriter();
        hocon.Duration("luaactors.vm.default-timeout", DefaultTimeout);
        hocon.Duration("luaactors.vm.kill-grace", KillGrace);
        hocon.Bytes("luaactors.vm.memory-limit", MemoryLimitBytes);
        hocon.Bytes("luaactors.vm.output-cap", OutputCapBytes);
        hocon.Number("luaactors.vm.max-buffered-requests", MaxBufferedRequests);
        hocon.Number("luaactors.vm.messaging.inbox-capacity", InboxCapacity);
        hocon.Number("luaactors.cluster.number-of-shards", NumberOfShards);
        Networking.Write(hocon);
        Limits.Write(hocon);
        Persistence.Write(hocon);
        foreach (var (name, type) in Types)
        {
            type.Write(hocon, $"luaactors.vm-types.{name}");
        }

        var typed = ConfigurationFactory.ParseString(hocon.ToString());
        return string.IsNullOrWhiteSpace(Hocon) ? typed : typed.WithFallback(ConfigurationFactory.ParseString(Hocon));
    }

    private static void Positive(TimeSpan? value, string key)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            throw new LuaActorsConfigurationException(key, $"{v} is not positive", "a duration above 0");
        }
    }

    internal static void AtLeast(long? value, long minimum, string key, string allowed)
    {
        if (value is { } v && v < minimum)
        {
            throw new LuaActorsConfigurationException(key, $"{v.ToString(CultureInfo.InvariantCulture)} is too small", allowed);
        }
    }

    internal static void Between(long? value, long low, long high, string key)
    {
        if (value is { } v && (v < low || v > high))
        {
            throw new LuaActorsConfigurationException(key, $"{v.ToString(CultureInfo.InvariantCulture)} is out of range",
                $"a whole number from {low} to {high}");
        }
    }
}

/// <summary><c>luaactors.vm.networking</c> (docs/configuration.md; docs/guarantees.md, "The network rule").</summary>
public sealed class NetworkingOptions
{
    /// <summary><c>bind-addresses</c>: addresses a VM may listen on ("127.0.0.1", "::1").</summary>
    public IList<string>? BindAddresses { get; set; }

    /// <summary><c>listen-ports</c>: the ports VM listeners take, "LOW-HIGH" ("20000-29999").</summary>
    public string? ListenPorts { get; set; }

    /// <summary><c>connect</c>: endpoints beyond the cluster's VM listeners a VM may connect to, "address[/prefix]:port[-port]".</summary>
    public IList<string>? Connect { get; set; }

    /// <summary><c>max-sockets</c>: sockets one VM may have open at once (64).</summary>
    public int? MaxSockets { get; set; }

    internal void Validate()
    {
        LuaActorsOptions.Between(MaxSockets, 1, 1000, "luaactors.vm.networking.max-sockets");
        if (BindAddresses is { Count: 0 })
        {
            throw new LuaActorsConfigurationException("luaactors.vm.networking.bind-addresses", "the list is empty", "at least one IP address");
        }

        // The parsers of the settings say what is wrong with an address, a range or an entry.
        var hocon = new HoconWriter();
        Write(hocon);
        LuaActorsConfigurationException.Check(() => NetworkingSettings.From(
            ConfigurationFactory.ParseString(hocon.ToString()).WithFallback(LuaActorsConfig.Default).GetConfig("luaactors.vm")));
    }

    internal void Write(HoconWriter hocon)
    {
        hocon.String("luaactors.vm.networking.bind-addresses", BindAddresses is null ? null : string.Join(",", BindAddresses));
        hocon.String("luaactors.vm.networking.listen-ports", ListenPorts);
        hocon.String("luaactors.vm.networking.connect", Connect is null ? null : string.Join(",", Connect));
        hocon.Number("luaactors.vm.networking.max-sockets", MaxSockets);
    }
}

/// <summary>
/// <c>luaactors.persistence</c>: the database that keeps VM specs (and, in a cluster, the entities
/// sharding remembers) and becomes the default Akka.Persistence journal and snapshot store.
/// </summary>
public sealed class PersistenceOptions
{
    /// <summary><c>mode</c>: "off" (in memory), "sqlite" or "postgresql" (off).</summary>
    public string? Mode { get; set; }

    /// <summary><c>sqlite.data-dir</c>: the directory of the SQLite database (luaactors-data).</summary>
    public string? DataDirectory { get; set; }

    /// <summary><c>postgresql.connection-string</c>: an Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>write-timeout</c>: how long a create or remove waits for the database (10s).</summary>
    public TimeSpan? WriteTimeout { get; set; }

    internal void Validate()
    {
        // The settings' own parser names the key and what it takes.
        var hocon = new HoconWriter();
        Write(hocon);
        _ = Persistence.PersistenceSettings.From(ConfigurationFactory.ParseString(hocon.ToString()).WithFallback(LuaActorsConfig.Default));
    }

    internal void Write(HoconWriter hocon)
    {
        hocon.String("luaactors.persistence.mode", Mode);
        hocon.String("luaactors.persistence.sqlite.data-dir", DataDirectory);
        hocon.String("luaactors.persistence.postgresql.connection-string", ConnectionString);
        hocon.Duration("luaactors.persistence.write-timeout", WriteTimeout);
    }
}

/// <summary><c>luaactors.limits</c>: sizes in bytes (docs/guarantees.md, "Size limits").</summary>
public sealed class SizeLimitOptions
{
    /// <summary><c>max-code-size</c>: UTF-8 bytes of one request's code (1MiB).</summary>
    public long? MaxCodeSizeBytes { get; set; }

    /// <summary><c>max-result-size</c>: bytes of one encoded result (1MiB).</summary>
    public long? MaxResultSizeBytes { get; set; }

    /// <summary><c>max-output-size</c>: the ceiling of every VM's output cap (1MiB).</summary>
    public long? MaxOutputSizeBytes { get; set; }

    /// <summary><c>max-message-size</c>: any request or reply, serialized (3MiB; must fit the remoting frame).</summary>
    public long? MaxMessageSizeBytes { get; set; }

    internal void Validate()
    {
        const string positive = "a size of 1 byte or more";
        LuaActorsOptions.AtLeast(MaxCodeSizeBytes, 1, "luaactors.limits.max-code-size", positive);
        LuaActorsOptions.AtLeast(MaxResultSizeBytes, 1, "luaactors.limits.max-result-size", positive);
        LuaActorsOptions.AtLeast(MaxOutputSizeBytes, 1, "luaactors.limits.max-output-size", positive);
        LuaActorsOptions.AtLeast(MaxMessageSizeBytes, 1, "luaactors.limits.max-message-size", positive);
    }

    internal void Write(HoconWriter hocon)
    {
        hocon.Bytes("luaactors.limits.max-code-size", MaxCodeSizeBytes);
        hocon.Bytes("luaactors.limits.max-result-size", MaxResultSizeBytes);
        hocon.Bytes("luaactors.limits.max-output-size", MaxOutputSizeBytes);
        hocon.Bytes("luaactors.limits.max-message-size", MaxMessageSizeBytes);
    }
}

/// <summary>One entry of <c>luaactors.vm-types</c>.</summary>
public sealed class VmTypeOptions
{
    public static readonly IReadOnlyList<string> Backends = ["process", "xcpng-stub"];

    public static readonly IReadOnlyList<string> Launchers = ["spawner", "exec-chain"];

    /// <summary><c>backend</c>: "process" (a Lua interpreter process) or "xcpng-stub".</summary>
    public string? Backend { get; set; }

    /// <summary><c>executable</c>: the interpreter, looked up on PATH (lua5.4).</summary>
    public string? Executable { get; set; }

    /// <summary><c>launcher</c>: "spawner" (luaactors-spawn) or "exec-chain".</summary>
    public string? Launcher { get; set; }

    /// <summary><c>spare-processes</c>: idle interpreter processes kept started (0-64).</summary>
    public int? SpareProcesses { get; set; }

    /// <summary><c>confinement</c>: the kernel's wall around the type's processes.</summary>
    public ConfinementOptions? Confinement { get; set; }

    internal void Validate(string name)
    {
        var key = $"luaactors.vm-types.{name}";
        OneOf(Backend, Backends, key + ".backend");
        OneOf(Launcher, Launchers, key + ".launcher");
        if (Executable is { } executable && string.IsNullOrWhiteSpace(executable))
        {
            throw new LuaActorsConfigurationException(key + ".executable", "it is empty", "the name or path of an interpreter");
        }

        LuaActorsOptions.Between(SpareProcesses, 0, 64, key + ".spare-processes");
        LuaActorsOptions.Between(Confinement?.MaxOpenFiles, 8, 4096, key + ".confinement.max-open-files");
    }

    internal void Write(HoconWriter hocon, string key)
    {
        hocon.String(key + ".backend", Backend);
        hocon.String(key + ".executable", Executable);
        hocon.String(key + ".launcher", Launcher);
        hocon.Number(key + ".spare-processes", SpareProcesses);
        if (Confinement is { } confinement)
        {
            hocon.Switch(key + ".confinement.enabled", confinement.Enabled);
            hocon.Switch(key + ".confinement.no-new-privs", confinement.NoNewPrivs);
            hocon.Switch(key + ".confinement.seccomp", confinement.Seccomp);
            hocon.Switch(key + ".confinement.landlock", confinement.Landlock);
            hocon.Switch(key + ".confinement.rlimits", confinement.Rlimits);
            hocon.Number(key + ".confinement.max-open-files", confinement.MaxOpenFiles);
        }
    }

    private static void OneOf(string? value, IReadOnlyList<string> allowed, string key)
    {
        if (value is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            throw new LuaActorsConfigurationException(key, $"'{value}' is not known", string.Join(" or ", allowed));
        }
    }
}

/// <summary><c>luaactors.vm-types.NAME.confinement</c> (docs/guarantees.md, "Confinement"); null keeps the HOCON value (on).</summary>
public sealed class ConfinementOptions
{
    public bool? Enabled { get; set; }

    public bool? NoNewPrivs { get; set; }

    public bool? Seccomp { get; set; }

    public bool? Landlock { get; set; }

    public bool? Rlimits { get; set; }

    /// <summary><c>max-open-files</c>: RLIMIT_NOFILE of a VM without networking (8-4096).</summary>
    public int? MaxOpenFiles { get; set; }
}

/// <summary>
/// A LuaActors setting with a value it does not take. <see cref="Key"/> names the HOCON key (or
/// the option), <see cref="Allowed"/> what it takes.
/// </summary>
public sealed class LuaActorsConfigurationException(string key, string problem, string allowed)
    : ConfigurationException($"{key}: {problem}; allowed: {allowed}")
{
    public string Key { get; } = key;

    public string Problem { get; } = problem;

    public string Allowed { get; } = allowed;

    /// <summary>Runs a settings parser; its <see cref="ConfigurationException"/> becomes this one, keyed by the key it names.</summary>
    internal static T Check<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (LuaActorsConfigurationException)
        {
            throw;
        }
        catch (ConfigurationException e)
        {
            throw FromMessage(e.Message);
        }
    }

    /// <summary>
    /// Checks a whole configuration (defaults included) as the actors will read it: the
    /// <c>luaactors.vm</c> section, the size limits and every VM type.
    /// </summary>
    internal static void CheckAll(Config config)
    {
        Check(() => VmSettings.From(config));
        Check(() => SizeLimits.From(config));
        Check(() => Persistence.PersistenceSettings.From(config));
    }

    private static LuaActorsConfigurationException FromMessage(string message)
    {
        // The settings parsers start their messages with the key ("luaactors.vm.kill-grace must …")
        // or with its section and the rest of the key ("luaactors.vm: networking.listen-ports …").
        var match = System.Text.RegularExpressions.Regex.Match(message, @"(luaactors(?:\.[A-Za-z0-9_-]+)+)(?:: ([a-z-]+(?:\.[a-z-]+)*) )?");
        var key = !match.Success ? "luaactors"
            : match.Groups[2].Success ? $"{match.Groups[1].Value}.{match.Groups[2].Value}"
            : match.Groups[1].Value;
        return new LuaActorsConfigurationException(key, message.TrimEnd('.'), "see docs/configuration.md and hocon/luaactors.conf");
    }
}

/// <summary>Dotted HOCON assignments, each value quoted as JSON (which HOCON reads).</summary>
internal sealed class HoconWriter
{
    private readonly StringBuilder _text = new();

    public void String(string key, string? value)
    {
        if (value is not null)
        {
            _text.Append(key).Append(" = ").AppendLine(JsonSerializer.Serialize(value));
        }
    }

    public void Number(string key, long? value)
    {
        if (value is { } v)
        {
            _text.Append(key).Append(" = ").AppendLine(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    public void Bytes(string key, long? value)
    {
        if (value is { } v)
        {
            _text.Append(key).Append(" = ").Append(v.ToString(CultureInfo.InvariantCulture)).AppendLine("b");
        }
    }

    public void Duration(string key, TimeSpan? value)
    {
        if (value is { } v)
        {
            _text.Append(key).Append(" = ").Append(((long)Math.Ceiling(v.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)).AppendLine("ms");
        }
    }

    public void Switch(string key, bool? value)
    {
        if (value is { } v)
        {
            _text.Append(key).Append(" = ").AppendLine(v ? "on" : "off");
        }
    }

    public override string ToString() => _text.ToString();
}
