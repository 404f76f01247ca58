using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using LuaActors.Api;
using LuaActors.Bench.Shared;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// 3 nodes, 30 VMs spread over them; one node that holds VMs is lost abruptly (its actor system
/// stops without leaving). Time until every VM answers again through a survivor, with the
/// split-brain settings of hocon/node.conf (plus the bench's <c>--config FILE</c>, if given), and
/// the timeline of what happens in between, as one survivor sees it:
/// unreachable → downed (the resolver's decision) → removed → the coordinator lets go of the lost
/// region (after the removal margin) → shards hosted again → entities started (remember-entities)
/// → process started (after the registry read) → answering.
/// Two cases: a younger node is lost (the shard coordinator stays where it is), and the oldest
/// node is lost (the coordinator, a cluster singleton, moves too). <c>--quick</c> runs the first.
/// </summary>
internal sealed class NodeLoss : IScenario
{
    private const int Vms = 30;

    public string Name => "node-loss";

    public string Description => "3 nodes, 30 VMs, one node lost abruptly: until every VM answers elsewhere";

    public async Task RunAsync(BenchContext context)
    {
        var extra = context.ClusterConfinementHocon;
        if (context.ConfigFile is { } file)
        {
            extra += "\n" + await File.ReadAllTextAsync(file);
            BenchContext.Say($"node settings laid over the defaults: {file}");
        }

        var cases = context.Quick ? new[] { false } : [false, true];
        var results = new List<Timeline>();
        foreach (var coordinatorNode in cases)
        {
            results.Add(await RunCaseAsync(coordinatorNode, extra));
        }

        var table = new Table(
            "node-loss: seconds from losing a node (its actor system terminated) until, as a survivor sees it, ...",
            ["phase", .. results.Select(r => r.LostCoordinator ? "coordinator's node lost" : "younger node lost")]);
        foreach (var (label, pick) in Timeline.Phases)
        {
            table.Row([label, .. results.Select(r => (object?)(pick(r) is { } v ? Math.Round(v, 2) : "-"))]);
        }

        table.Print();

        var main = results[0];
        context.Set("node_loss_status", "measured");
        context.Set("node_loss_config", context.ConfigFile ?? "defaults");
        context.Set("node_loss_s", Math.Round(main.AllAnswering, 2));
        context.Set("node_loss_vms_moved", main.Moved);
        context.Set("node_loss_unreachable_s", Round(main.Unreachable));
        context.Set("node_loss_downed_s", Round(main.Downed));
        context.Set("node_loss_removed_s", Round(main.Removed));
        context.Set("node_loss_region_released_s", Round(main.RegionReleased));
        context.Set("node_loss_shards_hosted_s", Round(main.ShardsHostedAll));
        context.Set("node_loss_entities_started_s", Round(main.EntitiesStartedAll));
        context.Set("node_loss_processes_started_s", Round(main.ProcessesStartedAll));
        if (results.FirstOrDefault(r => r.LostCoordinator) is { } coordinator)
        {
            context.Set("node_loss_coordinator_node_s", Math.Round(coordinator.AllAnswering, 2));
            context.Set("node_loss_coordinator_available_s", Round(coordinator.CoordinatorBack));
        }

        context.Target("node_loss", "a lost node's VMs answering elsewhere <= 10 s", "node_loss_s", 10, atMost: true);
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;

    private static async Task<Timeline> RunCaseAsync(bool loseCoordinatorNode, string? extraHocon)
    {
        await using var cluster = await BenchCluster.StartAsync(3, extraHocon);
        // Nodes[0] joined first: the oldest, home of the shard coordinator (a cluster singleton).
        var victim = loseCoordinatorNode ? cluster.Nodes[0] : cluster.Nodes[1];
        var via = loseCoordinatorNode ? cluster.Nodes[1] : cluster.Nodes[0];
        var survivors = cluster.Nodes.Where(n => n != victim).ToList();
        var ids = Enumerable.Range(1, Vms).Select(i => $"loss-{i}").ToList();
        await Task.WhenAll(ids.Select(id => via.CreateVmAsync(id, new VmOptions { InitScript = "booted = true" })));
        var infos = await Task.WhenAll(ids.Select(id => via.GetVmInfoAsync(id)));
        var victimAddress = BenchCluster.AddressOf(victim);
        var movedIds = ids.Where((_, i) => infos[i].Node == victimAddress).ToHashSet();
        var victimState = await ClusterSharding.Get(victim.System).ShardRegion("vm")
            .Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        var movedShards = victimState.Shards.Select(s => s.ShardId).ToHashSet();
        BenchContext.Say($"{Vms} VMs: {string.Join(", ", infos.GroupBy(i => i.Node).Select(g => $"{g.Count()} on …{g.Key[^5..]}"))}; " +
            $"losing the {(loseCoordinatorNode ? "oldest node (the coordinator's)" : "younger node")} with {movedIds.Count} in {movedShards.Count} shards");

        var timeline = new Timeline { LostCoordinator = loseCoordinatorNode, Moved = movedIds.Count };
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var victimMember = Akka.Cluster.Cluster.Get(victim.System).SelfMember;
        await cluster.CrashAsync(victim);
        timeline.Terminated = clock.Elapsed.TotalSeconds;
        var watchers = new[]
        {
            WatchMembershipAsync(Akka.Cluster.Cluster.Get(via.System), victimMember, timeline, clock, stop.Token),
            WatchShardingAsync(survivors, via, victimAddress, movedShards, movedIds, timeline, clock, stop.Token),
        };
        var answered = await Task.WhenAll(ids.Select(id => AnswerAgainAsync(via, id, clock)));
        timeline.AllAnswering = clock.Elapsed.TotalSeconds;
        var moved = ids.Select((id, i) => (id, at: answered[i].TotalSeconds)).Where(x => movedIds.Contains(x.id)).ToList();
        timeline.FirstAnswering = moved.Count > 0 ? moved.Min(x => x.at) : null;
        timeline.MovedAnswering = moved.Count > 0 ? moved.Max(x => x.at) : null;

        // When each moved VM's process started: now minus its uptime.
        var started = new List<double>();
        foreach (var id in movedIds)
        {
            var info = await via.GetVmInfoAsync(id);
            started.Add(clock.Elapsed.TotalSeconds - info.UptimeMs / 1000.0);
        }

        if (started.Count > 0)
        {
            timeline.ProcessesStartedFirst = started.Min();
            timeline.ProcessesStartedAll = started.Max();
        }

        await stop.CancelAsync();
        await Task.WhenAll(watchers);
        return timeline;
    }

    /// <summary>Polls the survivor's view of the membership: the lost member unreachable, down, removed.</summary>
    private static async Task WatchMembershipAsync(Akka.Cluster.Cluster observer, Member lost, Timeline timeline, Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && timeline.Removed is null)
        {
            var state = observer.State;
            var now = clock.Elapsed.TotalSeconds;
            if (timeline.Unreachable is null && state.Unreachable.Any(m => m.UniqueAddress.Equals(lost.UniqueAddress)))
            {
                timeline.Unreachable = now;
            }

            var member = state.Members.FirstOrDefault(m => m.UniqueAddress.Equals(lost.UniqueAddress));
            if (timeline.Downed is null && member?.Status == MemberStatus.Down)
            {
                timeline.Downed = now;
            }

            if (member is null && !state.Unreachable.Any(m => m.UniqueAddress.Equals(lost.UniqueAddress)))
            {
                timeline.Downed ??= now;
                timeline.Removed = now;
            }

            await Task.Delay(5, CancellationToken.None);
        }
    }

    /// <summary>
    /// Polls the coordinator (through a survivor's region) and the survivors' regions: when the
    /// coordinator answers again and no longer lists the lost region, when the lost node's shards
    /// are hosted by a survivor, when their entities exist again.
    /// </summary>
    private static async Task WatchShardingAsync(
        List<VmManager> survivors, VmManager via, string victimAddress, HashSet<string> shards, HashSet<string> entities,
        Timeline timeline, Stopwatch clock, CancellationToken stop)
    {
        var viaRegion = ClusterSharding.Get(via.System).ShardRegion("vm");
        var regions = survivors.Select(n => ClusterSharding.Get(n.System).ShardRegion("vm")).ToList();
        while (!stop.IsCancellationRequested && timeline.EntitiesStartedAll is null)
        {
            try
            {
                if (timeline.RegionReleased is null)
                {
                    var current = await viaRegion.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(1), CancellationToken.None);
                    var now = clock.Elapsed.TotalSeconds;
                    // An empty answer: this region knows no coordinator (it lived on the lost node).
                    if (current.Regions.Count > 0)
                    {
                        if (timeline.LostCoordinator)
                        {
                            timeline.CoordinatorBack ??= now;
                        }

                        if (current.Regions.All(a => a.ToString() != victimAddress))
                        {
                            timeline.RegionReleased = now;
                        }
                    }
                }

                var states = await Task.WhenAll(regions.Select(r =>
                    r.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(1), CancellationToken.None)));
                var at = clock.Elapsed.TotalSeconds;
                var hosted = states.SelectMany(s => s.Shards).Where(s => shards.Contains(s.ShardId)).ToList();
                if (hosted.Count > 0)
                {
                    timeline.ShardsHostedFirst ??= at;
                }

                if (hosted.Select(s => s.ShardId).Distinct().Count() == shards.Count)
                {
                    timeline.ShardsHostedAll ??= at;
                }

                var alive = hosted.SelectMany(s => s.EntityIds).Where(entities.Contains).Distinct().Count();
                if (alive > 0)
                {
                    timeline.EntitiesStartedFirst ??= at;
                }

                if (alive == entities.Count)
                {
                    timeline.EntitiesStartedAll = at;
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or Akka.Pattern.OpenCircuitException
                or InvalidOperationException or TimeoutException)
            {
                // A busy or moving region, or no coordinator to ask: poll again.
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>Calls until the VM answers (typed errors while it moves are expected); returns when it did.</summary>
    private static async Task<TimeSpan> AnswerAgainAsync(VmManager via, string id, Stopwatch clock)
    {
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            try
            {
                await via.ExecuteAsync(id, "return booted", new ExecuteOptions(TimeoutMs: 2_000));
                return clock.Elapsed;
            }
            catch (Exception e) when (e is LuaActorsException or Akka.Actor.AskTimeoutException or TimeoutException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"VM {id} did not answer within 120 s of the node loss");
    }

    /// <summary>Seconds since the loss at which each step was first seen (null: not seen).</summary>
    private sealed class Timeline
    {
        public static readonly (string Label, Func<Timeline, double?> Pick)[] Phases =
        [
            ("actor system terminated (the loss)", t => t.Terminated),
            ("unreachable", t => t.Unreachable),
            ("downed (split-brain resolver)", t => t.Downed),
            ("removed", t => t.Removed),
            ("coordinator answering again (moved)", t => t.CoordinatorBack),
            ("coordinator let go of the lost region", t => t.RegionReleased),
            ("first lost shard hosted again", t => t.ShardsHostedFirst),
            ("every lost shard hosted again", t => t.ShardsHostedAll),
            ("first moved entity started", t => t.EntitiesStartedFirst),
            ("every moved entity started", t => t.EntitiesStartedAll),
            ("first moved process started", t => t.ProcessesStartedFirst),
            ("every moved process started", t => t.ProcessesStartedAll),
            ("first moved VM answering", t => t.FirstAnswering),
            ("every moved VM answering", t => t.MovedAnswering),
            ("every VM answering", t => t.AllAnswering),
        ];

        public bool LostCoordinator { get; init; }

        public int Moved { get; init; }

        public double Terminated { get; set; }

        public double? Unreachable { get; set; }

        public double? Downed { get; set; }

        public double? Removed { get; set; }

        public double? CoordinatorBack { get; set; }

        public double? RegionReleased { get; set; }

        public double? ShardsHostedFirst { get; set; }

        public double? ShardsHostedAll { get; set; }

        public double? EntitiesStartedFirst { get; set; }

        public double? EntitiesStartedAll { get; set; }

        public double? ProcessesStartedFirst { get; set; }

        public double? ProcessesStartedAll { get; set; }

        public double? FirstAnswering { get; set; }

        public double? MovedAnswering { get; set; }

        public double AllAnswering { get; set; }
    }
}
