using System.Net;
using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// The VM id grammar (<see cref="VmId"/>): one rule, refused the same way by the C# API (before
/// any actor is asked) and the HTTP API; the CLI's side is in <see cref="VmCliTests"/>.
/// </summary>
public sealed class VmIdTests(NodeFixture node, ManagerFixture embedded) : IClassFixture<NodeFixture>, IClassFixture<ManagerFixture>
{
    public static TheoryData<string> BadIds() =>
    [
        "", ".", "..", ".hidden", "-rf", "a b", "a/b", "a\\b", "é", "a\0b", "a$", new string('a', VmId.MaxLength + 1),
    ];

    [Theory]
    [InlineData("a")]
    [InlineData("vm1")]
    [InlineData("_private")]
    [InlineData("worker-1.v2_b")]
    [InlineData("9")]
    public void Good_ids_pass(string id) => Assert.Null(VmId.Problem(id));

    [Fact]
    public void The_longest_id_passes() => Assert.True(VmId.IsValid(new string('x', VmId.MaxLength)));

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Bad_ids_are_refused_with_the_rule(string id) =>
        Assert.Contains(VmId.Rule, VmId.Problem(id));

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task The_api_refuses_a_bad_id_before_asking_any_actor(string id)
    {
        var manager = embedded.Manager;
        var created = await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.CreateVmAsync(id));
        Assert.Equal(ErrorKind.InvalidRequest, created.Kind);
        Assert.Contains(VmId.Rule, created.Message);
        Assert.Throws<InvalidVmRequestException>(() => manager.GetVm(id));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.ExecuteAsync(id, "return 1"));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.GetVmInfoAsync(id));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.RemoveVmAsync(id));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.AttachAsync(id));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => manager.ReceiveFromVmAsync(id, TimeSpan.Zero));
        Assert.DoesNotContain(await manager.ListVmsAsync(), vm => vm.VmId == id);
    }

    [Fact]
    public async Task Linking_to_a_bad_peer_id_is_refused()
    {
        var vm = await embedded.Manager.CreateVmAsync(ManagerFixture.NewId("linker"));
        await Assert.ThrowsAsync<InvalidVmRequestException>(() => vm.LinkAsync(".."));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".x")]
    [InlineData("-x")]
    public async Task Http_create_with_a_bad_id_is_400_and_nothing_is_created(string id)
    {
        using var response = await node.PostVmAsync(id);
        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid-request");
        using var list = await node.Client.GetAsync("vms");
        Assert.DoesNotContain($"\"id\":\"{id}\"", await list.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("vms/.x")]
    [InlineData("vms/-x")]
    [InlineData("vms/a%20b")]
    public async Task Http_requests_on_a_bad_id_are_400(string path)
    {
        await ApiAssert.ErrorAsync(await node.Client.GetAsync(path), HttpStatusCode.BadRequest, "invalid-request");
        await ApiAssert.ErrorAsync(await node.Client.DeleteAsync(path), HttpStatusCode.BadRequest, "invalid-request");
        await ApiAssert.ErrorAsync(await node.Client.PostAsync(path + "/execute", ApiAssert.Json("{\"code\":\"return 1\"}")),
            HttpStatusCode.BadRequest, "invalid-request");
    }
}
