namespace LuaActors.Messages;

/// <summary>
/// Published on the event stream (and told to the VM's sessions) when a VM's process was
/// replaced and the VM answers again.
/// </summary>
public sealed record VmRestarted(string VmId, int Restarts, string Reason) : ILuaActorsMessage;

/// <summary>Published on the event stream when a VM gave up after too many restarts.</summary>
public sealed record VmGaveUp(string VmId, int Restarts, string Reason) : ILuaActorsMessage;

/// <summary>
/// Published on the event stream when a VM answers its first ping on this node:
/// <paramref name="Created"/> after a create, else started from its stored spec (handed over from
/// another node, or re-activated).
/// </summary>
public sealed record VmStarted(string VmId, string Type, int? ProcessId, bool Created) : ILuaActorsMessage;

/// <summary>Published on the event stream when a VM loses its process (a restart or a give-up follows).</summary>
public sealed record VmCrashed(string VmId, string Reason) : ILuaActorsMessage;

/// <summary>Published on the event stream when a VM stops on this node to move to another (a sharding hand-off).</summary>
public sealed record VmHandedOff(string VmId) : ILuaActorsMessage;
