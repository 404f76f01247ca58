using System.CommandLine;
using LuaActors.Diagnostics;
using LuaActors.Host;
using LuaActors.Host.Cli;

namespace LuaActors.UnitTests;

/// <summary>`luaactors top`: its options, and how two readings of GET /top become rates and a p99.</summary>
public sealed class TopViewTests
{
    private static readonly double[] Bounds = [0.001, 0.01, 0.1];

    [Fact]
    public void Top_parses_its_options_and_refuses_bad_ones()
    {
        var result = Parse("top", "--interval", "0.5", "--limit", "3", "--json", "--node", "http://h:1");
        Assert.Null(CliErrors.Find(result));
        Assert.Equal("top", CliErrors.PathOf(result.CommandResult.Command));
        Assert.Equal(0.5, result.GetValue<double>("--interval"));
        Assert.Equal(3, result.GetValue<int?>("--limit"));
        Assert.Equal(TopCommand.DefaultInterval, Parse("top").GetValue<double>("--interval"));

        Assert.Contains("--interval needs a number of seconds from 0.1 to 3600 (got 'soon')", CliErrors.Find(Parse("top", "--interval", "soon"))!.Message);
        Assert.Contains("--interval needs a number of seconds from 0.1 to 3600 (got '0')", CliErrors.Find(Parse("top", "--interval", "0"))!.Message);
        Assert.Contains("--limit needs a positive whole number (got '0')", CliErrors.Find(Parse("top", "--limit", "0"))!.Message);
    }

    [Fact]
    public void The_quantile_is_interpolated_in_its_bucket_and_capped_at_the_last_bound()
    {
        Assert.Null(TopView.Quantile(Bounds, [0, 0, 0, 0], 0.99));
        // 100 executes all in (1 ms, 10 ms]: the 99th of them is 99% of the way through it.
        Assert.Equal(0.001 + (0.009 * 0.99), TopView.Quantile(Bounds, [0, 100, 0, 0], 0.99)!.Value, 9);
        // 98 fast and 2 slow: the 99th is in the slow bucket.
        Assert.Equal(0.01 + (0.09 * 0.5), TopView.Quantile(Bounds, [98, 0, 2, 0], 0.99)!.Value, 9);
        Assert.Equal(0.1, TopView.Quantile(Bounds, [0, 0, 0, 5], 0.99));
    }

    [Fact]
    public void Two_readings_give_cpu_percent_executions_per_second_and_the_p99_of_the_interval()
    {
        var first = Reading(1_000, Vm("a", 1, cpu: 1.0, executions: 100, [100, 0, 0, 0]), Vm("b", 2, cpu: 5.0, executions: 10, [0, 0, 10, 0]));
        var second = Reading(3_000, Vm("a", 1, cpu: 2.0, executions: 300, [100, 200, 0, 0]), Vm("b", 2, cpu: 5.2, executions: 10, [0, 0, 10, 0]));

        var view = TopView.Compute(first, second, limit: 0);

        Assert.Equal(2, view.IntervalSeconds);
        Assert.Equal(["a", "b"], view.Vms.Select(v => v.Id));
        var a = view.Vms[0];
        Assert.Equal(50, a.CpuPercent!.Value, 6);
        Assert.Equal(100, a.ExecutionsPerSecond);
        Assert.Equal(300, a.Executions);
        // Only the interval's 200 executes, all in (1 ms, 10 ms].
        Assert.Equal((0.001 + (0.009 * 0.99)) * 1000, a.P99Ms!.Value, 6);
        var b = view.Vms[1];
        Assert.Equal(10, b.CpuPercent!.Value, 6);
        Assert.Equal(0, b.ExecutionsPerSecond);
        // None in the interval: the p99 of all its executes.
        Assert.Equal((0.01 + (0.09 * 0.99)) * 1000, b.P99Ms!.Value, 6);
        Assert.Equal(60, view.Nodes.Single().CpuPercent!.Value, 6);
        Assert.Equal(["a"], TopView.Compute(first, second, limit: 1).Vms.Select(v => v.Id));
    }

    [Fact]
    public void A_vm_with_a_new_process_or_a_first_reading_has_no_rate_yet()
    {
        var first = Reading(1_000, Vm("a", 1, cpu: 9.0, executions: 50, [50, 0, 0, 0]));
        var restarted = Reading(2_000, Vm("a", 7, cpu: 0.1, executions: 51, [51, 0, 0, 0]));

        var view = TopView.Compute(first, restarted, limit: 0);
        Assert.Null(view.Vms.Single().CpuPercent);
        Assert.Null(view.Vms.Single().ExecutionsPerSecond);

        var alone = TopView.Compute(null, first, limit: 0);
        Assert.Null(alone.Vms.Single().CpuPercent);
        Assert.Null(alone.Nodes.Single().CpuPercent);
        Assert.Equal(50, alone.Vms.Single().Executions);
    }

    [Fact]
    public void The_view_renders_nodes_and_vms_within_the_width()
    {
        var reading = Reading(1_000, Vm("calc", 3, cpu: 1, executions: 4, [4, 0, 0, 0]));
        var lines = TopView.Render(TopView.Compute(null, reading, 0), width: 60);

        Assert.All(lines, l => Assert.True(l.Length <= 60));
        Assert.Contains(lines, l => l.StartsWith("NODE", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("calc ", StringComparison.Ordinal) && l.Contains("running", StringComparison.Ordinal));
    }

    [Fact]
    public void The_nodes_buckets_are_the_execution_duration_histograms()
    {
        var stats = new VmExecutionStats();
        stats.Record(0.00001);
        stats.Record(0.003);
        stats.Record(99);
        var counts = stats.Counts();
        Assert.Equal(LuaActorsMetrics.ExecutionBucketBounds.Count + 1, counts.Length);
        Assert.Equal(1, counts[0]);
        Assert.Equal(1, counts[LuaActorsMetrics.ExecutionBucketBounds.ToList().FindIndex(b => b >= 0.003)]);
        Assert.Equal(1, counts[^1]);
        Assert.Equal(3, stats.Executions);
    }

    private const string Node = "akka.tcp://luaactors@127.0.0.1:4053";

    private static TopDto Reading(long at, params TopVmDto[] vms) =>
        new(Node, at, Bounds, [new TopNodeDto(Node, "up", true, vms.Length, 0.5, 2)], vms);

    private static TopVmDto Vm(string id, int pid, double cpu, long executions, long[] counts) =>
        new(id, "basic", "running", Node, pid, 0, 3_000_000, cpu, executions, counts);

    private static ParseResult Parse(params string[] args) => CliApp.Create(_ => null).Parse(args, CliApp.Parsing);
}
