using LuaActors.Api;
using LuaActors.Tests.Support;

namespace LuaActors.Tests;

/// <summary>
/// An execute goes straight to its VM's actor once that VM answered one (VmManager.Execute.cs):
/// when the actor it knows is gone, the request must still reach the VM of that id as it is now.
/// </summary>
public sealed class DirectExecuteTests(ManagerFixture fixture) : IClassFixture<ManagerFixture>
{
    [Fact]
    public async Task An_execute_after_the_vm_was_removed_and_created_again_elsewhere_reaches_the_new_vm()
    {
        var id = await fixture.NewVmAsync("direct");
        await fixture.Manager.ExecuteAsync(id, "x = 1");
        Assert.Equal(1, await fixture.Manager.ExecuteAsync<long>(id, "return x"));

        // Another handle on the same actor system removes and re-creates it: this one still
        // knows the old VM's actor.
        var other = VmManager.ForActorSystem(fixture.Manager.System, fixture.Manager.Manager);
        await other.RemoveVmAsync(id);
        await Assert.ThrowsAsync<VmNotFoundException>(() => fixture.Manager.ExecuteAsync(id, "return x"));
        await other.CreateVmAsync(id);

        var fresh = await fixture.Manager.ExecuteAsync(id, "return x");
        Assert.Equal("[null]", fresh.ValuesJson);
        await fixture.Manager.ExecuteAsync(id, "x = 2");
        Assert.Equal(2, await fixture.Manager.ExecuteAsync<long>(id, "return x"));
        await other.RemoveVmAsync(id);
    }
}
