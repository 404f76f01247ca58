namespace LuaActors.Messages;

public enum VmState
{
    /// <summary>The process is starting or its init script is running; requests wait.</summary>
    Starting,
    /// <summary>Answering requests.</summary>
    Running,
    /// <summary>The process died; a new one starts after a backoff; requests wait.</summary>
    Restarting,
    /// <summary>Restarted too often within the window; requests fail with <see cref="ErrorKind.VmFailed"/>.</summary>
    Failed,
    /// <summary>A stub type with nothing behind it yet (xcpng, Phase 1).</summary>
    NotProvisioned,
    /// <summary>Did not answer in time for a listing.</summary>
    Unresponsive,
}

/// <summary>Create a VM; the reply (<see cref="VmCreated"/>) comes once it answers.</summary>
public sealed record CreateVm(VmSpec Spec) : IVmCommand
{
    public string VmId => Spec.VmId;
}

public sealed record VmCreated(VmInfo Info) : ILuaActorsMessage;

public sealed record GetVmInfo(string VmId) : IVmCommand;

/// <summary>What a VM is doing now.</summary>
public sealed record VmInfo(
    string VmId,
    string Type,
    VmState State,
    int? ProcessId,
    string Node,
    int Restarts,
    long UptimeMs,
    long? ResidentBytes,
    int PendingRequests,
    string? LastError,
    IReadOnlyList<string>? Sessions = null,
    int InboxCount = 0,
    IReadOnlyList<string>? Peers = null,
    IReadOnlyList<string>? Topics = null,
    IReadOnlyList<string>? Confinement = null) : ILuaActorsMessage;

public sealed record ListVms : ILuaActorsMessage
{
    public static ListVms Instance { get; } = new();
}

public sealed record VmList(IReadOnlyList<VmInfo> Vms) : ILuaActorsMessage;

public sealed record RemoveVm(string VmId) : IVmCommand;

public sealed record VmRemoved(string VmId) : ILuaActorsMessage;

public sealed record ShutdownAll : ILuaActorsMessage
{
    public static ShutdownAll Instance { get; } = new();
}

public sealed record AllVmsShutDown(int Count) : ILuaActorsMessage;
