using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Storage;

/// <summary>GET /vms/{id}/storage on a real node: an operator's export of a VM's storage.</summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class StorageHttpTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task The_storage_of_a_vm_is_a_json_object_of_its_keys()
    {
        var id = await fixture.NewVmAsync("http-storage");
        using (var executed = await Client.PostAsJsonAsync($"vms/{id}/execute", new
        {
            code = "vm.storage.set('n', 1) vm.storage.set('f', 2.0) vm.storage.set('t', { a = { 1, 'x' } }) return true",
            timeoutMs = 60_000,
        }))
        {
            var body = await executed.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("ok").GetBoolean(), body.GetRawText());
        }

        using var all = await Client.GetAsync($"vms/{id}/storage");
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("{\"f\":2.0,\"n\":1,\"t\":{\"a\":[1,\"x\"]}}", await all.Content.ReadAsStringAsync());
        Assert.Equal("{\"n\":1}", await Client.GetStringAsync($"vms/{id}/storage?prefix=n"));
        await ApiAssert.ErrorAsync(await Client.GetAsync("vms/no-such-vm/storage"), HttpStatusCode.NotFound, "not-found");
    }
}
