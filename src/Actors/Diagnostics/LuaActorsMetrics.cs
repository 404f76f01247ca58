using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Akka.Actor;
using LuaActors.Messages;

namespace LuaActors.Diagnostics;

/// <summary>
/// The <c>LuaActors</c> meter (docs/operations.md, "Metrics"), named after OpenTelemetry's
/// semantic conventions. The VM actors report their events here through one-line hooks; the
/// observable instruments sample the VMs this process tracks when a reader collects.
/// <para>
/// Cardinality is bounded: labels are VM types, states, error kinds and restart reasons (all
/// finite), and VM ids appear only on the two per-VM series, for the <see cref="PerVmTop"/>
/// VMs that used the most CPU since the previous collection.
/// </para>
/// </summary>
public static partial class LuaActorsMetrics
{
    public const string MeterName = "LuaActors";

    public const string VmTypeTag = "luaactors.vm.type";
    public const string VmIdTag = "luaactors.vm.id";
    public const string VmStateTag = "luaactors.vm.state";
    public const string OutcomeTag = "luaactors.execution.outcome";
    public const string ErrorTypeTag = "error.type";
    public const string RestartReasonTag = "luaactors.vm.restart.reason";
    public const string StartKindTag = "luaactors.vm.start.kind";
    public const string CpuModeTag = "cpu.mode";

    /// <summary>Instruments that carry <see cref="VmIdTag"/>: a reader may cap their series (the node does).</summary>
    public static readonly IReadOnlyList<string> PerVmInstruments = ["luaactors.vm.top.cpu.time", "luaactors.vm.top.memory.usage"];

    internal static readonly Meter Meter = new(MeterName, typeof(LuaActorsMetrics).Assembly.GetName().Version?.ToString());

    // Pipelined executes take tens of microseconds; a runaway one is killed after its limit (5 s by default).
    private static readonly double[] ExecutionBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // A process start with the launcher is ~2 ms; an init script may take much longer.
    private static readonly double[] StartBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly Counter<long> Executions = Meter.CreateCounter<long>(
        "luaactors.vm.executions", "{execution}", "Executes a VM answered, by outcome (ok or error) and error kind.");

    private static readonly Histogram<double> ExecutionDuration = Meter.CreateHistogram(
        "luaactors.vm.execution.duration", "s",
        "Time from an execute going to the VM process to its answer (including the requests ahead of it in the pipeline).",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ExecutionBuckets });

    private static readonly Counter<long> Restarts = Meter.CreateCounter<long>(
        "luaactors.vm.restarts", "{restart}", "VM processes lost and restarted (or given up on), by reason.");

    private static readonly Histogram<double> StartDuration = Meter.CreateHistogram(
        "luaactors.vm.start.duration", "s",
        "Time from asking the backend for a process to the VM answering (limits, init script and first ping done).",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StartBuckets });

    // Unresponsive is a listing's verdict, never an actor's own state.
    private static readonly VmState[] States = Enum.GetValues<VmState>().Where(s => s != VmState.Unresponsive).ToArray();

    private static readonly ConcurrentDictionary<IActorRef, TrackedVm> Vms = new();

    /// <summary>Every VM type seen: their gauges go on reporting zeros rather than vanish.</summary>
    private static readonly ConcurrentDictionary<string, byte> TypesSeen = new(StringComparer.Ordinal);

    /// <summary>
    /// CPU seconds (user, system) of processes gone since, by type, as of the last collection
    /// that saw them alive: keeps luaactors.vm.process.cpu.time from falling when a VM restarts
    /// or is removed (a fall would read as a counter reset).
    /// </summary>
    private static readonly Dictionary<string, (double User, double System)> RetiredCpu = new(StringComparer.Ordinal);

    private static readonly Lock SnapshotLock = new();
    private static Snapshot? _snapshot;
    private static int _perVmTop = 10;

    static LuaActorsMetrics()
    {
        Meter.CreateObservableGauge("luaactors.vm.count", ObserveCounts, "{vm}", "VMs on this node, by type and state.");
        Meter.CreateObservableGauge("luaactors.vm.inbox.depth", () => ByType(vm => vm.InboxDepth), "{message}",
            "Messages waiting in the inboxes of this node's VMs, by type.");
        Meter.CreateObservableGauge("luaactors.vm.requests.waiting", () => ByType(vm => vm.Waiting), "{request}",
            "Requests waiting for a VM of this node to (re)start, by type.");
        Meter.CreateObservableCounter("luaactors.vm.process.cpu.time", ObserveCpu, "s",
            "CPU time of this node's VM processes alive now, by type and mode (user, system).");
        Meter.CreateObservableGauge("luaactors.vm.process.memory.usage", () => ByType(vm => vm.Usage?.ResidentBytes ?? 0), "By",
            "Resident memory of this node's VM processes, by type.");
        Meter.CreateObservableCounter(PerVmInstruments[0], () => Top(vm => vm.Usage!.Value.CpuSeconds), "s",
            "CPU time of each of the VM processes that used the most CPU since the previous collection (luaactors.metrics.per-vm-top).");
        Meter.CreateObservableGauge(PerVmInstruments[1], () => Top(vm => vm.Usage!.Value.ResidentBytes), "By",
            "Resident memory of the same VMs as luaactors.vm.top.cpu.time.");
    }

    /// <summary>How many VMs get series of their own (0: none); luaactors.metrics.per-vm-top.</summary>
    public static int PerVmTop
    {
        get => Volatile.Read(ref _perVmTop);
        set => Volatile.Write(ref _perVmTop, Math.Max(0, value));
    }

    /// <summary>An error kind as a label value: the API's kebab-case name (AlreadyExists → already-exists).</summary>
    public static string ErrorType(ErrorKind kind) => Name(kind);

    // ---- hooks of the VM actor (one line each at its events) ----------------------------------

    /// <summary>The VM actor started: <paramref name="sample"/> reads its state when metrics are collected (any thread).</summary>
    public static void VmTracked(IActorRef vm, string vmId, Func<VmSample> sample) => Vms[vm] = new TrackedVm(vmId, sample);

    /// <summary>The VM actor stopped: executes still in flight end as Stopped.</summary>
    public static void VmUntracked(IActorRef vm)
    {
        if (Vms.TryRemove(vm, out var tracked))
        {
            lock (SnapshotLock)
            {
                Retire(tracked);
            }

            foreach (var id in tracked.InFlight.Keys.ToList())
            {
                Complete(tracked, id, "error", ErrorType(ErrorKind.Stopped));
            }
        }
    }

    /// <summary>The actor asks its backend for a process (first start or restart).</summary>
    public static void VmStarting(IActorRef vm)
    {
        if (Vms.TryGetValue(vm, out var tracked))
        {
            tracked.StartingAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The VM answers its first ping after a start.</summary>
    public static void VmReady(IActorRef vm, bool restarted)
    {
        if (Vms.TryGetValue(vm, out var tracked) && tracked.StartingAt != 0)
        {
            StartDuration.Record(Stopwatch.GetElapsedTime(tracked.StartingAt).TotalSeconds,
                new(VmTypeTag, tracked.Type), new(StartKindTag, restarted ? "restart" : "create"));
            tracked.StartingAt = 0;
        }
    }

    /// <summary>The VM lost its process and restarts (or gives up): <paramref name="reason"/> is the actor's text, classified here.</summary>
    public static void VmRestarted(IActorRef vm, string reason)
    {
        if (Vms.TryGetValue(vm, out var tracked))
        {
            Restarts.Add(1, new(VmTypeTag, tracked.Type), new(RestartReasonTag, RestartReason(reason)));
        }
    }

    /// <summary>An execute went to the VM process as request <paramref name="requestId"/>: its span starts.</summary>
    public static void ExecutionStarted(IActorRef vm, uint requestId, Execute execute)
    {
        // The execute path pays for the bookkeeping only while something collects it (an exporter
        // enables the instruments, a tracer listens); a request started before that just goes
        // uncounted (Complete finds no entry).
        if (!Executions.Enabled && !ExecutionDuration.Enabled && !LuaActorsTracing.Source.HasListeners())
        {
            return;
        }

        if (Vms.TryGetValue(vm, out var tracked))
        {
            tracked.InFlight[requestId] = new InFlight(
                Stopwatch.GetTimestamp(), LuaActorsTracing.StartVmExecute(tracked.VmId, tracked.Type, execute.Trace));
        }
    }

    /// <summary>Request <paramref name="requestId"/>, an execute, is answered <paramref name="reply"/> (returned as is).</summary>
    public static ILuaActorsMessage ExecutionCompleted(IActorRef vm, uint requestId, ILuaActorsMessage reply)
    {
        if (Vms.TryGetValue(vm, out var tracked))
        {
            Complete(tracked, requestId, reply is RequestFailed ? "error" : "ok", reply is RequestFailed failed ? ErrorType(failed.Kind) : null);
        }

        return reply;
    }

    /// <summary>
    /// The process is gone with executes in flight: request <paramref name="killedForTimeout"/>
    /// (if any) ends as Timeout, the others as Crashed.
    /// </summary>
    public static void ExecutionsLost(IActorRef vm, uint? killedForTimeout)
    {
        if (Vms.TryGetValue(vm, out var tracked))
        {
            foreach (var id in tracked.InFlight.Keys.ToList())
            {
                Complete(tracked, id, "error", ErrorType(id == killedForTimeout ? ErrorKind.Timeout : ErrorKind.Crashed));
            }
        }
    }

    /// <summary>
    /// The restart reason label for the actor's loss text: a few fixed values, never the text
    /// itself (it holds request ids, exit codes and stderr).
    /// </summary>
    public static string RestartReason(string reason) => reason switch
    {
        _ when reason.StartsWith("request ", StringComparison.Ordinal) => "timeout",
        _ when reason.StartsWith("process ", StringComparison.Ordinal) => "exited",
        _ when reason.StartsWith("protocol error", StringComparison.Ordinal) => "protocol-error",
        _ when reason.StartsWith("could not start", StringComparison.Ordinal) => "start-failed",
        _ when reason.StartsWith("init script failed", StringComparison.Ordinal) => "init-failed",
        _ when reason.StartsWith("the VM refused its limits", StringComparison.Ordinal) => "limits-refused",
        _ => "other",
    };

    // ---- internals -----------------------------------------------------------------------------

    private static void Complete(TrackedVm tracked, uint requestId, string outcome, string? errorType)
    {
        if (!tracked.InFlight.Remove(requestId, out var inFlight))
        {
            return;
        }

        tracked.Stats.Record(Stopwatch.GetElapsedTime(inFlight.StartedAt).TotalSeconds);

        var type = new KeyValuePair<string, object?>(VmTypeTag, tracked.Type);
        var outcomeTag = new KeyValuePair<string, object?>(OutcomeTag, outcome);
        if (errorType is null)
        {
            Executions.Add(1, type, outcomeTag);
            ExecutionDuration.Record(Stopwatch.GetElapsedTime(inFlight.StartedAt).TotalSeconds, type, outcomeTag);
        }
        else
        {
            var error = new KeyValuePair<string, object?>(ErrorTypeTag, errorType);
            Executions.Add(1, type, outcomeTag, error);
            ExecutionDuration.Record(Stopwatch.GetElapsedTime(inFlight.StartedAt).TotalSeconds, type, outcomeTag, error);
            inFlight.Span?.SetStatus(ActivityStatusCode.Error);
            inFlight.Span?.SetTag(ErrorTypeTag, errorType);
        }

        inFlight.Span?.Dispose();
    }

    private static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>The VMs as they are now, read at most once a second (one collection reads every instrument).</summary>
    private static Snapshot Current()
    {
        lock (SnapshotLock)
        {
            var now = Stopwatch.GetTimestamp();
            if (_snapshot is { } recent && Stopwatch.GetElapsedTime(recent.TakenAt, now) < TimeSpan.FromSeconds(1))
            {
                return recent;
            }

            var rows = new List<VmRow>();
            foreach (var tracked in Vms.Values)
            {
                var sample = tracked.Sample();
                if (sample.Type is null)
                {
                    // No spec yet (a sharded entity looking itself up): not a VM to count.
                    continue;
                }

                TypesSeen.TryAdd(sample.Type, 0);
                var usage = sample.ProcessId is { } pid ? VmProcessStats.Read(pid) : null;
                if (sample.ProcessId != tracked.LastProcessId)
                {
                    // A new process (or none): the old one's CPU time moves to the retired total.
                    Retire(tracked);
                    tracked.LastProcessId = sample.ProcessId;
                }

                var recentCpu = (usage?.CpuSeconds ?? 0) - (tracked.LastUsage?.CpuSeconds ?? 0);
                tracked.LastUsage = usage ?? tracked.LastUsage;
                rows.Add(new VmRow(tracked.VmId, sample.Type, sample.State, sample.InboxDepth, sample.Waiting, usage, recentCpu));
            }

            _snapshot = new Snapshot(now, rows);
            return _snapshot;
        }
    }

    /// <summary>Adds the VM's last seen process CPU time to its type's retired total (under the snapshot lock).</summary>
    private static void Retire(TrackedVm tracked)
    {
        if (tracked.LastUsage is { } last)
        {
            var retired = RetiredCpu.GetValueOrDefault(tracked.Type);
            RetiredCpu[tracked.Type] = (retired.User + last.UserSeconds, retired.System + last.SystemSeconds);
            tracked.LastUsage = null;
        }
    }

    private static IEnumerable<Measurement<long>> ObserveCounts()
    {
        var rows = Current().Rows;
        foreach (var type in TypesSeen.Keys)
        {
            foreach (var state in States)
            {
                var count = rows.Count(r => r.Type == type && r.State == state);
                yield return new Measurement<long>(count, new(VmTypeTag, type), new(VmStateTag, Name(state)));
            }
        }
    }

    private static IEnumerable<Measurement<long>> ByType(Func<VmRow, long> value)
    {
        var rows = Current().Rows;
        return TypesSeen.Keys.Select(type => new Measurement<long>(rows.Where(r => r.Type == type).Sum(value), new KeyValuePair<string, object?>(VmTypeTag, type)));
    }

    private static IEnumerable<Measurement<double>> ObserveCpu()
    {
        var rows = Current().Rows;
        var measurements = new List<Measurement<double>>();
        lock (SnapshotLock)
        {
            foreach (var type in TypesSeen.Keys)
            {
                var ofType = rows.Where(r => r.Type == type && r.Usage is not null).ToList();
                var retired = RetiredCpu.GetValueOrDefault(type);
                measurements.Add(new(retired.User + ofType.Sum(r => r.Usage!.Value.UserSeconds), new(VmTypeTag, type), new(CpuModeTag, "user")));
                measurements.Add(new(retired.System + ofType.Sum(r => r.Usage!.Value.SystemSeconds), new(VmTypeTag, type), new(CpuModeTag, "system")));
            }
        }

        return measurements;
    }

    private static IEnumerable<Measurement<T>> Top<T>(Func<VmRow, T> value) where T : struct =>
        Current().Rows
            .Where(r => r.Usage is not null)
            .OrderByDescending(r => r.RecentCpu)
            .ThenBy(r => r.VmId, StringComparer.Ordinal)
            .Take(PerVmTop)
            .Select(r => new Measurement<T>(value(r), new(VmIdTag, r.VmId), new(VmTypeTag, r.Type)));

    private readonly record struct InFlight(long StartedAt, Activity? Span);

    private sealed record VmRow(string VmId, string Type, VmState State, long InboxDepth, long Waiting, ProcessUsage? Usage, double RecentCpu);

    private sealed record Snapshot(long TakenAt, IReadOnlyList<VmRow> Rows);

    private sealed class TrackedVm(string vmId, Func<VmSample> sample)
    {
        private string? _type;

        public string VmId { get; } = vmId;

        public Func<VmSample> Sample { get; } = sample;

        /// <summary>Type once the spec is known (it never changes after).</summary>
        public string Type => _type ?? (Sample().Type is { } type ? _type = type : "?");

        /// <summary>Executes answered and their durations, for <see cref="ReadVms"/>.</summary>
        public VmExecutionStats Stats { get; } = new();

        /// <summary>Executes in the process (the actor's thread only).</summary>
        public Dictionary<uint, InFlight> InFlight { get; } = [];

        /// <summary>Stopwatch timestamp of the start in progress, 0 when none (the actor's thread only).</summary>
        public long StartingAt { get; set; }

        /// <summary>The process and its usage at the previous collection (under the snapshot lock).</summary>
        public int? LastProcessId { get; set; }

        public ProcessUsage? LastUsage { get; set; }
    }
}

/// <summary>What a VM actor tells the metrics about itself when they are collected (read from another thread).</summary>
public readonly record struct VmSample(string? Type, VmState State, int? ProcessId, int InboxDepth, int Waiting);
