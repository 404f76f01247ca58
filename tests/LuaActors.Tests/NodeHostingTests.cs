using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using LuaActors.Api;
using LuaActors.Cluster;
using LuaActors.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LuaActors.Tests;

/// <summary>
/// A node runs on the Generic Host with Akka.Hosting: its services hold the VmManager and the
/// actor system, the registry the shard region, and the cluster the configured resolver.
/// (How the settings are resolved is tested without a node in LuaActors.UnitTests.)
/// </summary>
public sealed class NodeHostingTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    [Fact]
    public async Task The_nodes_services_hold_the_vm_manager_and_its_registry_the_shard_region()
    {
        var services = fixture.Node.Services;
        var system = services.GetRequiredService<ActorSystem>();
        Assert.Same(fixture.Node.System, system);
        var manager = services.GetRequiredService<VmManager>();
        Assert.Equal(ActorRegistry.For(system).Get<ManagerActor>(), manager.Manager);
        Assert.True(ActorRegistry.For(system).TryGet<VmShardRegion>(out var region));
        Assert.Equal(VmSharding.RegionName, region.Path.Name);

        // What the DI manager creates, the HTTP API sees.
        var vm = await manager.CreateVmAsync(ManagerFixture.NewId("di"));
        var info = await fixture.Client.GetFromJsonAsync<JsonElement>($"vms/{vm.Id}");
        Assert.Equal("running", info.GetProperty("state").GetString());
        await vm.RemoveAsync();
    }

    [Fact]
    public void A_running_node_downs_with_the_resolver_whose_removal_margin_is_stable_after()
    {
        // Configuration only: that a lost node's VMs come back elsewhere is shown with real node
        // processes by tests/cluster/three-nodes.sh (ThreeNodeClusterTests); how long that takes
        // is the bench's to measure (docs/performance.md), never a test's assertion.
        var cluster = Akka.Cluster.Cluster.Get(fixture.Node.System);
        Assert.IsType<Akka.Cluster.SBR.SplitBrainResolverProvider>(cluster.DowningProvider);
        // down-removal-margin is off, so the resolver's margin is stable-after: sharding waits
        // that long past a downing before it starts the downed node's VMs elsewhere (the
        // reasoning in hocon/node.conf).
        Assert.Equal(TimeSpan.FromSeconds(5), cluster.DowningProvider.DownRemovalMargin);
        Assert.Equal(fixture.Node.Address, cluster.SelfAddress);
        Assert.NotEqual(4053, cluster.SelfAddress.Port);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_feature()
    {
        using var response = await fixture.Client.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(
            new HashSet<string> { "/vms", "/vms/{id}", "/vms/{id}/execute", "/vms/{id}/attach", "/vms/{id}/messages", "/vms/{id}/peers",
                "/vms/{id}/peers/{peer}", "/topics/{topic}/messages", "/groups", "/groups/{name}", "/groups/{name}/execute", "/cluster", "/healthz", "/readyz" },
            paths);
        var create = document.GetProperty("paths").GetProperty("/vms").GetProperty("post");
        Assert.Equal("CreateVm", create.GetProperty("operationId").GetString());
        Assert.True(create.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
    }
}
