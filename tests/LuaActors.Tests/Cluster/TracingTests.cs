using System.Collections.Concurrent;
using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Diagnostics;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Cluster;

/// <summary>
/// One execute across two nodes is one trace (docs/operations.md, "Traces"): the caller's span on
/// the node asked, the VM's span on the node that runs the VM, its parent carried in the message.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private const string TestSourceName = "LuaActors.Tests.Tracing";

    private static readonly ActivitySource TestSource = new(TestSourceName);

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            // By name: the listener may be asked while TestSource itself is being constructed.
            ShouldListenTo = source => source.Name is LuaActorsTracing.SourceName or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task An_execute_on_another_node_continues_the_callers_trace()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var (caller, host) = (cluster.Nodes[0], cluster.Nodes[1]);
        var vmId = await VmOnAsync(caller, TestCluster.AddressOf(host).ToString());

        // Stands for the HTTP request's span on the node asked.
        string traceId;
        using (var request = TestSource.StartActivity("request"))
        {
            Assert.NotNull(request);
            traceId = request.TraceId.ToString();
            Assert.Equal("[2]", (await caller.ExecuteAsync(vmId, "return 1 + 1")).ValuesJson);
            await Assert.ThrowsAsync<LuaException>(() => caller.ExecuteAsync(vmId, "error('on purpose')"));
        }

        var trace = _stopped.Where(a => a.TraceId.ToString() == traceId).ToList();
        var root = Assert.Single(trace, a => a.OperationName == "request");
        var executes = trace.Where(a => a.OperationName == LuaActorsTracing.ExecuteSpan).OrderBy(a => a.StartTimeUtc).ToList();
        var vmSpans = trace.Where(a => a.OperationName == LuaActorsTracing.VmExecuteSpan).ToList();
        Assert.Equal(2, executes.Count);
        Assert.Equal(2, vmSpans.Count);
        Assert.Equal(4 + 1, trace.Count);

        foreach (var execute in executes)
        {
            Assert.Equal(root.SpanId, execute.ParentSpanId);
            Assert.Equal(ActivityKind.Client, execute.Kind);
            Assert.Equal(vmId, execute.GetTagItem(LuaActorsMetrics.VmIdTag));

            // The VM's span is the caller's span's child, on the other node: its parent came in the message.
            var served = Assert.Single(vmSpans, s => s.ParentSpanId == execute.SpanId);
            Assert.Equal(ActivityKind.Server, served.Kind);
            Assert.True(served.HasRemoteParent);
            Assert.Equal(vmId, served.GetTagItem(LuaActorsMetrics.VmIdTag));
            Assert.Equal("basic", served.GetTagItem(LuaActorsMetrics.VmTypeTag));
        }

        Assert.Equal(ActivityStatusCode.Unset, executes[0].Status);
        Assert.Equal(ActivityStatusCode.Error, executes[1].Status);
        Assert.Equal("runtime", executes[1].GetTagItem("error.type"));
        var failedInVm = Assert.Single(vmSpans, s => s.ParentSpanId == executes[1].SpanId);
        Assert.Equal(ActivityStatusCode.Error, failedInVm.Status);
        Assert.Equal("runtime", failedInVm.GetTagItem("error.type"));
    }

    /// <summary>Creates VMs through <paramref name="via"/> until sharding places one on <paramref name="node"/>.</summary>
    private static async Task<string> VmOnAsync(VmManager via, string node)
    {
        for (var i = 0; i < 20; i++)
        {
            var id = ManagerFixture.NewId("traced");
            await via.CreateVmAsync(id);
            if ((await via.GetVmInfoAsync(id)).Node == node)
            {
                return id;
            }
        }

        throw new InvalidOperationException($"sharding placed none of 20 VMs on {node}");
    }
}
