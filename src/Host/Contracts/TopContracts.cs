namespace LuaActors.Host;

// The JSON of GET /top (docs/api.md), shared by the node (src/Host/Http) and `luaactors top`.

/// <summary>
/// GET /top: every member and every VM with cumulative usage at <see cref="TakenAtMs"/> (Unix ms):
/// a reader takes two and divides the differences by the time between them.
/// </summary>
internal sealed record TopDto(
    string Self, long TakenAtMs, IReadOnlyList<double> DurationBounds, IReadOnlyList<TopNodeDto> Nodes, IReadOnlyList<TopVmDto> Vms);

/// <summary>
/// A member: <see cref="LoadAverage"/> and <see cref="Processors"/> are null when it did not
/// answer in time (unreachable, or leaving).
/// </summary>
internal sealed record TopNodeDto(string Address, string Status, bool Reachable, int Vms, double? LoadAverage, int? Processors);

/// <summary>
/// A VM: <see cref="CpuSeconds"/> of its current process, <see cref="Executions"/> answered on its
/// current node, and those by duration bucket (<see cref="TopDto.DurationBounds"/>, plus one over the last).
/// </summary>
internal sealed record TopVmDto(
    string Id, string Type, string State, string Node, int? ProcessId, int Restarts, long? ResidentBytes,
    double CpuSeconds, long Executions, IReadOnlyList<long> DurationCounts);
