using Akka.Actor;
using Akka.Event;
using LuaActors.Protocol;

namespace LuaActors.Backends;

/// <summary>
/// A kind of VM, built by <see cref="VmFactoryActor"/> from a HOCON type entry and a VM's spec.
/// The VM actor starts instances through it and speaks the frame protocol to them; a backend
/// that cannot run code (the xcpng stub) throws <see cref="VmBackendNotSupportedException"/>.
/// </summary>
public interface IVmBackend
{
    /// <summary>The VM type this backend serves (the HOCON entry's name).</summary>
    string Type { get; }

    /// <summary>
    /// Starts one interpreter instance. Its frames, stderr lines and its end arrive at
    /// <see cref="InstanceStart.Owner"/> as <see cref="InstanceFrameReceived"/>,
    /// <see cref="InstanceStderrLine"/> and <see cref="InstanceExited"/>.
    /// </summary>
    Task<IVmInstance> StartAsync(InstanceStart start);
}

/// <summary>What a backend needs to start an instance for one VM.</summary>
/// <param name="Networking">The VM may use sockets (its spec's Networking): its confinement profile allows TCP.</param>
public sealed record InstanceStart(string VmId, int Generation, IActorRef Owner, long AddressSpaceBytes, bool Networking = false);

/// <summary>One running interpreter. Send and Kill are thread-safe and never block.</summary>
public interface IVmInstance
{
    int? ProcessId { get; }

    /// <summary>The kernel confinement layers of this instance's process, by name (docs/guarantees.md).</summary>
    IReadOnlyList<string> ConfinedBy => [];

    /// <summary>Queues a frame (<see cref="HostFrames"/>); the instance releases it once written.</summary>
    void Send(HostFrame frame);

    /// <summary>Ends the instance at once (SIGKILL for a process); <see cref="InstanceExited"/> follows.</summary>
    void Kill();
}

// An instance outlives its actor by a moment (the kill is asynchronous): its last notices
// reach a stopped actor, which is expected, hence IDeadLetterSuppression.

/// <summary>A frame from the instance, decoded. <see cref="Generation"/> tells stale instances apart.</summary>
public sealed record InstanceFrameReceived(int Generation, VmFrame Frame) : IDeadLetterSuppression;

/// <summary>The instance ended; the exit code is null when it was killed or never reported.</summary>
public sealed record InstanceExited(int Generation, int? ExitCode, string Description) : IDeadLetterSuppression;

/// <summary>A line the interpreter wrote to stderr (drained always: a full pipe would block it).</summary>
public sealed record InstanceStderrLine(int Generation, string Line) : IDeadLetterSuppression;

/// <summary>The instance broke the frame protocol; it is killed and restarted.</summary>
public sealed record InstanceProtocolError(int Generation, string Problem);

/// <summary>Thrown by a backend that has nothing to run code on (a Phase-1 stub).</summary>
public sealed class VmBackendNotSupportedException(string message) : Exception(message);
