using LuaActors.Messages;

namespace LuaActors.Persistence;

/// <summary>
/// What the spec journal writes, and what it is asked and answers (across nodes when it runs as a
/// cluster singleton): all serialized by <see cref="SpecJournalSerializer"/>. Events are past
/// tense and never change meaning once written: a new field must be optional.
/// </summary>
public interface ISpecJournalMessage;

/// <summary>Event: the VM's spec was stored (created, or replaced).</summary>
public sealed record SpecPut(VmSpec Spec) : ISpecJournalMessage;

/// <summary>Event: the VM was removed, so nothing brings it back.</summary>
public sealed record SpecRemoved(string VmId) : ISpecJournalMessage;

/// <summary>Snapshot: every spec at one sequence number.</summary>
public sealed record SpecSnapshot(IReadOnlyList<VmSpec> Specs) : ISpecJournalMessage;

/// <summary>Command: store a spec; answered <see cref="SpecStored"/> once the event is in the database.</summary>
public sealed record PutSpec(VmSpec Spec) : ISpecJournalMessage;

/// <summary>Command: remove a spec; answered <see cref="SpecDeleted"/> once the event is in the database (or there was none).</summary>
public sealed record RemoveSpec(string VmId) : ISpecJournalMessage;

/// <summary>Query: one spec (<see cref="SpecFound"/>).</summary>
public sealed record FindSpec(string VmId) : ISpecJournalMessage;

/// <summary>Query: every spec (<see cref="AllSpecs"/>).</summary>
public sealed record GetAllSpecs : ISpecJournalMessage
{
    public static readonly GetAllSpecs Instance = new();
}

public sealed record SpecStored(string VmId) : ISpecJournalMessage;

public sealed record SpecDeleted(string VmId, bool Existed) : ISpecJournalMessage;

public sealed record SpecFound(string VmId, VmSpec? Spec) : ISpecJournalMessage;

public sealed record AllSpecs(IReadOnlyList<VmSpec> Specs) : ISpecJournalMessage;

/// <summary>The database refused or lost a write: nothing was stored.</summary>
public sealed record SpecWriteFailed(string VmId, string Reason) : ISpecJournalMessage;

/// <summary>
/// The answer to a read while the database is known to be unreachable (the last write or
/// recovery failed, and no recovery has succeeded since): asked again later, it may be answered.
/// </summary>
public sealed record SpecJournalUnavailable(string Reason) : ISpecJournalMessage;
