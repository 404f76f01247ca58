using System.Globalization;

namespace LuaActors.Host.Cli;

/// <summary>One VM of a <c>luaactors top</c> view: rates over the interval between two readings of GET /top.</summary>
internal sealed record TopVmRow(
    string Id, string Type, string State, string Node, int? ProcessId, int Restarts, long? ResidentBytes,
    double? CpuPercent, long Executions, double? ExecutionsPerSecond, double? P99Ms);

/// <summary>One member of a <c>luaactors top</c> view: its VMs' CPU summed.</summary>
internal sealed record TopNodeRow(string Address, string Status, bool Reachable, int Vms, double? LoadAverage, int? Processors, double? CpuPercent);

/// <summary>What <c>luaactors top</c> shows (and prints with --json): the VMs sorted by CPU, busiest first.</summary>
internal sealed record TopSnapshot(string Self, double IntervalSeconds, IReadOnlyList<TopNodeRow> Nodes, IReadOnlyList<TopVmRow> Vms);

/// <summary>
/// Turns two readings of GET /top into rates: CPU % (of one core) and executes/s over the time
/// between them, p99 from the duration buckets of the executes in between (of all the VM's when
/// none ran in between). Pure, so it is checked without a node.
/// </summary>
internal static class TopView
{
    public static TopSnapshot Compute(TopDto? previous, TopDto current, int limit)
    {
        var seconds = previous is null ? 0 : (current.TakenAtMs - previous.TakenAtMs) / 1000.0;
        var before = previous?.Vms.ToDictionary(v => (v.Node, v.Id)) ?? [];
        var rows = current.Vms.Select(vm =>
        {
            var old = before.GetValueOrDefault((vm.Node, vm.Id));
            // A VM without its earlier reading, or with a new process (its counts went down), has no rate yet.
            var comparable = old is not null && seconds > 0 && old.ProcessId == vm.ProcessId
                && vm.CpuSeconds >= old.CpuSeconds && vm.Executions >= old.Executions;
            var window = comparable ? vm.DurationCounts.Select((c, i) => c - (i < old!.DurationCounts.Count ? old.DurationCounts[i] : 0)).ToList() : null;
            var p99 = Quantile(current.DurationBounds, window is not null && window.Sum() > 0 ? window : vm.DurationCounts, 0.99);
            return new TopVmRow(
                vm.Id, vm.Type, vm.State, vm.Node, vm.ProcessId, vm.Restarts, vm.ResidentBytes,
                comparable ? (vm.CpuSeconds - old!.CpuSeconds) / seconds * 100 : null,
                vm.Executions,
                comparable ? (vm.Executions - old!.Executions) / seconds : null,
                p99 * 1000);
        })
            .OrderByDescending(r => r.CpuPercent ?? -1)
            .ThenByDescending(r => r.ExecutionsPerSecond ?? -1)
            .ThenByDescending(r => r.Executions)
            .ThenBy(r => r.Id, StringComparer.Ordinal)
            .ToList();
        var nodes = current.Nodes.Select(n => new TopNodeRow(
            n.Address, n.Status, n.Reachable, n.Vms, n.LoadAverage, n.Processors,
            previous is null ? null : rows.Where(r => r.Node == n.Address).Sum(r => r.CpuPercent ?? 0))).ToList();
        return new TopSnapshot(current.Self, seconds, nodes, limit > 0 ? rows.Take(limit).ToList() : rows);
    }

    /// <summary>
    /// The <paramref name="q"/> quantile (seconds) of counts per bucket (upper <paramref name="bounds"/>,
    /// then one over the last), interpolated within its bucket as Prometheus' histogram_quantile
    /// does; null with no counts. Over the last bound it is the last bound.
    /// </summary>
    public static double? Quantile(IReadOnlyList<double> bounds, IReadOnlyList<long> counts, double q)
    {
        var total = counts.Sum();
        if (total == 0 || bounds.Count == 0)
        {
            return null;
        }

        var rank = q * total;
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (seen + counts[i] >= rank && counts[i] > 0)
            {
                if (i >= bounds.Count)
                {
                    return bounds[^1];
                }

                var lower = i == 0 ? 0 : bounds[i - 1];
                return lower + ((bounds[i] - lower) * (rank - seen) / counts[i]);
            }

            seen += counts[i];
        }

        return bounds[^1];
    }

    /// <summary>The view as text lines for a terminal <paramref name="width"/> wide.</summary>
    public static IReadOnlyList<string> Render(TopSnapshot snapshot, int width)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine($"luaactors top - {DateTime.Now:HH:mm:ss} - {snapshot.Nodes.Count} nodes, " +
            $"{snapshot.Nodes.Sum(n => n.Vms)} VMs - via {ClientRunner.ShortNode(snapshot.Self)} (q or Ctrl+C quits)");
        text.WriteLine();
        TableWriter.Write(text, ["NODE", "STATUS", "VMS", "LOAD", "CPUS", "VM CPU%"], snapshot.Nodes.Select(n => (IReadOnlyList<string>)
        [
            ClientRunner.ShortNode(n.Address) + (n.Address == snapshot.Self ? " *" : ""),
            n.Reachable ? n.Status : n.Status + " (unreachable)",
            n.Vms.ToString(CultureInfo.InvariantCulture),
            Number(n.LoadAverage, "0.00"),
            n.Processors?.ToString(CultureInfo.InvariantCulture) ?? "-",
            Number(n.CpuPercent, "0.0"),
        ]));
        text.WriteLine();
        TableWriter.Write(text, ["VM", "TYPE", "STATE", "NODE", "CPU%", "MEM", "RESTARTS", "EXEC/S", "P99", "EXECS"], snapshot.Vms.Select(v => (IReadOnlyList<string>)
        [
            v.Id,
            v.Type,
            v.State,
            ClientRunner.ShortNode(v.Node),
            Number(v.CpuPercent, "0.0"),
            ClientRunner.Bytes(v.ResidentBytes),
            v.Restarts.ToString(CultureInfo.InvariantCulture),
            Number(v.ExecutionsPerSecond, "0.#"),
            v.P99Ms is { } ms ? Milliseconds(ms) : "-",
            v.Executions.ToString(CultureInfo.InvariantCulture),
        ]));
        return text.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Select(l => l.Length > width ? l[..width] : l).ToList();
    }

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";

    private static string Milliseconds(double ms) => ms < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{ms * 1000:0}us")
        : ms < 1000 ? string.Create(CultureInfo.InvariantCulture, $"{ms:0.#}ms")
        : string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.##}s");
}
