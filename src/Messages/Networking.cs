namespace LuaActors.Messages;

/// <summary>
/// Open a listener in a VM created with networking on (C#'s <c>StartServerAsync</c>): on
/// <see cref="Host"/>:<see cref="Port"/> (0: a free port of <c>luaactors.vm.networking.listen-ports</c>),
/// served by background tasks that hand every line received to the VM's host. The VM's actor
/// remembers it: after a process restart (a crash, <c>kill -9</c>) the listener is opened again on
/// the same port. The reply is <see cref="ServerStarted"/>, or <see cref="RequestFailed"/>.
/// </summary>
public sealed record StartServer(string VmId, string Host, int Port) : IVmCommand;

/// <summary>The VM listens on <see cref="Port"/>.</summary>
public sealed record ServerStarted(string VmId, int Port) : ILuaActorsMessage;
