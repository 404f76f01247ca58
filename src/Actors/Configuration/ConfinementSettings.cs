using Akka.Configuration;

namespace LuaActors.Configuration;

/// <summary>The kernel layers that confine a VM process (docs/guarantees.md, "Confinement").</summary>
[Flags]
public enum ConfinementLayers
{
    None = 0,
    NoNewPrivs = 1,
    Seccomp = 2,
    LandlockFilesystem = 4,
    LandlockNetwork = 8,
    LandlockScope = 16,
    Rlimits = 32,
}

/// <summary>
/// <c>luaactors.vm-types.&lt;type&gt;.confinement</c>: which layers luaactors-spawn applies to the
/// type's processes, plus the TCP ports a networking VM may bind and connect to, read from
/// <c>luaactors.vm.networking</c> (<c>listen-ports</c>, the ports of <c>connect</c>). Every layer is
/// on unless a key turns it off; <c>enabled = off</c> turns them all off.
/// </summary>
public sealed record ConfinementSettings(
    ConfinementLayers Layers,
    int MaxOpenFiles,
    IReadOnlyList<(int First, int Last)> BindPorts,
    IReadOnlyList<(int First, int Last)> ConnectPorts)
{
    /// <summary>Names as VmInfo and GET /vms/{id} report them.</summary>
    public static readonly IReadOnlyList<(ConfinementLayers Layer, string Name)> LayerNames =
    [
        (ConfinementLayers.NoNewPrivs, "no-new-privs"),
        (ConfinementLayers.Seccomp, "seccomp"),
        (ConfinementLayers.LandlockFilesystem, "landlock-fs"),
        (ConfinementLayers.LandlockNetwork, "landlock-net"),
        (ConfinementLayers.LandlockScope, "landlock-scope"),
        (ConfinementLayers.Rlimits, "rlimits"),
    ];

    public static ConfinementSettings Off { get; } = new(ConfinementLayers.None, 0, [], []);

    public bool Enabled => Layers != ConfinementLayers.None;

    /// <param name="type">The type's name, for error messages.</param>
    /// <param name="typeConfig">The type's entry of <c>luaactors.vm-types</c>.</param>
    /// <param name="networking">
    /// <c>luaactors.vm.networking</c>, parsed once (<see cref="NetworkingSettings"/>), or null.
    /// Landlock lets a networking VM bind only <c>listen-ports</c> and connect only to them and the
    /// ports of the <c>connect</c> entries; without it (an embedder's bare type config) the ports
    /// are not known and a networking VM's TCP is left to seccomp (TCP only) and the VM's checks.
    /// </param>
    public static ConfinementSettings From(string type, Config typeConfig, NetworkingSettings? networking)
    {
        var section = typeConfig.HasPath("confinement") ? typeConfig.GetConfig("confinement") : Config.Empty;
        if (!section.GetBoolean("enabled", true))
        {
            return Off;
        }

        var layers = ConfinementLayers.None;
        void Layer(string key, ConfinementLayers layer)
        {
            if (section.GetBoolean(key, true))
            {
                layers |= layer;
            }
        }

        Layer("no-new-privs", ConfinementLayers.NoNewPrivs);
        Layer("seccomp", ConfinementLayers.Seccomp);
        Layer("landlock", ConfinementLayers.LandlockFilesystem | ConfinementLayers.LandlockNetwork | ConfinementLayers.LandlockScope);
        Layer("rlimits", ConfinementLayers.Rlimits);
        var maxOpenFiles = section.GetInt("max-open-files", 16);
        if (maxOpenFiles is < 8 or > 4096)
        {
            throw new ConfigurationException($"luaactors.vm-types.{type}.confinement.max-open-files must be between 8 and 4096 (got {maxOpenFiles}).");
        }

        if (networking is null)
        {
            return new ConfinementSettings(layers, maxOpenFiles, [], []);
        }

        List<(int First, int Last)> bind = [(networking.LowPort, networking.HighPort)];
        var connect = bind.Concat(networking.Connect.Select(entry => (entry.LowPort, entry.HighPort))).ToList();
        return new ConfinementSettings(layers, maxOpenFiles, bind, connect);
    }

    /// <summary>Whether TCP ports are known, so Landlock can hold a networking VM to them.</summary>
    public bool PortsKnown => BindPorts.Count > 0;

    /// <summary>The names of <paramref name="layers"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> Names(ConfinementLayers layers) =>
        LayerNames.Where(l => layers.HasFlag(l.Layer)).Select(l => l.Name).ToList();
}
