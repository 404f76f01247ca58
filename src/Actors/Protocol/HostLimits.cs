namespace LuaActors.Protocol;

/// <summary>The settings an 'L' frame sends to a VM after its start (docs/protocol.md §3, §11.2).</summary>
/// <param name="TimeoutMs">Default time limit per request (<c>timeout_ms</c>).</param>
/// <param name="MemoryKb">Default Lua heap limit (<c>memory_kb</c>).</param>
/// <param name="OutputCap">Print output kept per request (<c>output_cap</c>).</param>
/// <param name="ResultCap">Encoded result bytes allowed (<c>result_cap</c>, 0: none).</param>
/// <param name="RepCap">Largest <c>string.rep</c> result (<c>rep_cap</c>).</param>
/// <param name="VmId">What <c>vm.id()</c> returns (<c>vm_id</c>).</param>
/// <param name="Net">The socket settings of a VM with networking; null without.</param>
public sealed record HostLimits(int TimeoutMs, long MemoryKb, long OutputCap, long ResultCap, long RepCap, string VmId, NetLimits? Net = null);

/// <summary>The networking keys of an 'L' frame (<c>net=1</c>, <c>net_bind</c>, <c>net_ports</c>, <c>net_sockets</c>).</summary>
/// <param name="BindAddresses">Canonical address texts a listener may bind.</param>
public sealed record NetLimits(IReadOnlyList<string> BindAddresses, int LowPort, int HighPort, int MaxSockets);
