using System.Net;
using System.Net.Http.Json;
using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// luaactors.limits: what is over a size limit is answered TooLarge at once, for a VM on another
/// node as for a local one; what fits crosses nodes.
/// </summary>
public sealed class SizeLimitTests(ManagerFixture local) : IClassFixture<ManagerFixture>
{
    /// <summary>1 MiB of encoded result: over max-result-size.</summary>
    private const string ResultOverLimit = "return string.rep('x', 1100000)";

    /// <summary>1 MB of control characters printed: within the output cap, but 6 MB serialized (\u0001 each).</summary>
    private const string OutputOverMessageSize = "print(string.rep('\\1', 1000000)) return 1";

    /// <summary>1.1 MB of code: over max-code-size.</summary>
    private static readonly string CodeOverLimit = "return 1 --" + new string('x', 1_100_000);

    /// <summary>0.9 MB of code, but 5.4 MB serialized: over max-message-size.</summary>
    private static readonly string CodeOverMessageSize = "return 1 --" + new string('\u0001', 900_000);

    private static readonly ExecuteOptions Short = new(TimeoutMs: 5000);

    [Fact]
    public async Task Requests_and_replies_over_the_limits_to_a_vm_on_another_node_are_answered_TooLarge_at_once()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var (caller, vmNode) = (cluster.Nodes[0], TestCluster.AddressOf(cluster.Nodes[1]).ToString());
        string vmId;
        do
        {
            vmId = ManagerFixture.NewId("remote-size");
            await caller.CreateVmAsync(vmId);
        }
        while ((await caller.GetVmInfoAsync(vmId)).Node != vmNode);

        // Just under the limits, a result crosses nodes whole.
        var fits = await caller.ExecuteAsync(vmId, "return string.rep('x', 1000000)", Short);
        Assert.Equal(1_000_004, fits.ValuesJson.Length);

        await AssertTooLargeAsync(caller, vmId, ResultOverLimit, "max-result-size");
        await AssertTooLargeAsync(caller, vmId, OutputOverMessageSize, "max-message-size");
        await AssertTooLargeAsync(caller, vmId, CodeOverLimit, "max-code-size");
        await AssertTooLargeAsync(caller, vmId, CodeOverMessageSize, "max-message-size");
        Assert.Equal("[2]", (await caller.ExecuteAsync(vmId, "return 2", Short)).ValuesJson);
    }

    [Fact]
    public async Task A_local_vm_answers_TooLarge_alike()
    {
        var vmId = await local.NewVmAsync("local-size");
        await AssertTooLargeAsync(local.Manager, vmId, ResultOverLimit, "max-result-size");
        await AssertTooLargeAsync(local.Manager, vmId, OutputOverMessageSize, "max-message-size");
        await AssertTooLargeAsync(local.Manager, vmId, CodeOverLimit, "max-code-size");
        await AssertTooLargeAsync(local.Manager, vmId, CodeOverMessageSize, "max-message-size");
        var tooBigInit = await Assert.ThrowsAsync<TooLargeException>(() =>
            local.Manager.CreateVmAsync(ManagerFixture.NewId("init-size"), new VmOptions { InitScript = CodeOverLimit }));
        Assert.Contains("max-code-size", tooBigInit.Message);
        Assert.Equal("[2]", (await local.Manager.ExecuteAsync(vmId, "return 2", Short)).ValuesJson);
    }

    [Fact]
    public void Limits_that_cannot_fit_the_remoting_frame_are_refused_at_start()
    {
        static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(LuaActorsConfig.Default);

        var defaults = SizeLimits.From(With("akka.actor.provider = cluster"));
        Assert.Equal(new SizeLimits(1 << 20, 1 << 20, 1 << 20, 3 << 20), defaults);

        var frame = Assert.Throws<ConfigurationException>(() => SizeLimits.From(With(
            "akka.actor.provider = cluster\nakka.remote.dot-netty.tcp.maximum-frame-size = 128000b")));
        Assert.Contains("maximum-frame-size", frame.Message);
        // No remoting, no frame: only the limits' own consistency.
        SizeLimits.From(With("akka.remote.dot-netty.tcp.maximum-frame-size = 128000b"));
        var code = Assert.Throws<ConfigurationException>(() => SizeLimits.From(With("luaactors.limits.max-code-size = 4MiB")));
        Assert.Contains("max-code-size", code.Message);
    }

    private static async Task AssertTooLargeAsync(VmManager via, string vmId, string code, string limit)
    {
        var tooLarge = await Assert.ThrowsAsync<TooLargeException>(() => via.ExecuteAsync(vmId, code, Short));
        Assert.Equal(ErrorKind.TooLarge, tooLarge.Kind);
        Assert.Contains(limit, tooLarge.Message);
    }
}

/// <summary>The HTTP API answers TooLarge as 413 "too-large".</summary>
public sealed class SizeLimitHttpTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    [Fact]
    public async Task A_result_over_the_limit_is_413_too_large()
    {
        var id = await node.NewVmAsync("http-size");
        using var response = await node.Client.PostAsJsonAsync($"vms/{id}/execute", new { code = "return string.rep('x', 1100000)" });
        await ApiAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "too-large");
    }
}
