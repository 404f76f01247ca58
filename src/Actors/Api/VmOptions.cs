using LuaActors.Messages;

namespace LuaActors.Api;

/// <summary>How to create a VM (the old library's <c>create_vm(vm_id, vm_type, config)</c>).</summary>
public sealed record VmOptions
{
    /// <summary>A type from <c>luaactors.vm-types</c>: <c>basic</c> or <c>xcpng</c> by default.</summary>
    public string Type { get; init; } = "basic";

    /// <summary>The type's config entries (xcpng: xcpng_host, username, password, template).</summary>
    public IReadOnlyDictionary<string, string>? Config { get; init; }

    /// <summary>Lua code run after every (re)start of the VM, before any request.</summary>
    public string? InitScript { get; init; }

    public VmLimits? Limits { get; init; }

    /// <summary>
    /// Gives the VM's Lua code LuaSocket's TCP API (docs/protocol.md §11.6), inside the network
    /// rule of <c>luaactors.vm.networking</c>: it reaches only other VMs' listeners and listed endpoints.
    /// </summary>
    public bool Networking { get; init; }

    internal VmSpec ToSpec(string vmId) =>
        new(vmId, Type, Config ?? new Dictionary<string, string>(), Limits ?? VmLimits.Default, InitScript, Networking);
}

/// <summary>Per-request limits; null means the VM's own.</summary>
public sealed record ExecuteOptions(int? TimeoutMs = null, int? MemoryMb = null);

/// <summary>How <see cref="VmManager.StartAsync"/> starts its actor system.</summary>
public sealed record VmManagerOptions
{
    public string SystemName { get; init; } = "luaactors";

    /// <summary>HOCON laid over hocon/luaactors.conf (e.g. <c>luaactors.vm.default-timeout = 2s</c>); Akka keys too.</summary>
    public string? Config { get; init; }

    /// <summary>LuaActors' typed settings, laid over <see cref="Config"/> (the same object an application passes to <c>WithLuaActors</c>).</summary>
    public LuaActorsOptions? LuaActors { get; init; }
}
