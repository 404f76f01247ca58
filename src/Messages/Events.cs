namespace LuaActors.Messages;

/// <summary>
/// Published on the event stream (and told to the VM's sessions) when a VM's process was
/// replaced and the VM answers again.
/// </summary>
public sealed record VmRestarted(string VmId, int Restarts, string Reason) : ILuaActorsMessage;

/// <summary>Published on the event stream when a VM gave up after too many restarts.</summary>
public sealed record VmGaveUp(string VmId, int Restarts, string Reason) : ILuaActorsMessage;
