using LuaActors.Api;

namespace LuaActors.Tests.Support;

/// <summary>One VmManager (one actor system) shared by the tests of a class; each test makes its own VMs.</summary>
public sealed class ManagerFixture : IAsyncLifetime
{
    private static int _counter;

    public VmManager Manager { get; private set; } = null!;

    /// <summary>A VM id no other test uses.</summary>
    public static string NewId(string prefix = "vm") => $"{prefix}-{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync() => Manager = await StartAsync();

    /// <summary>Creates a VM with a fresh id starting with <paramref name="prefix"/>; returns the id.</summary>
    public async Task<string> NewVmAsync(string prefix, VmOptions? options = null)
    {
        var id = NewId(prefix);
        await Manager.CreateVmAsync(id, options);
        return id;
    }

    public async Task DisposeAsync() => await Manager.DisposeAsync();

    /// <summary>A manager with test-friendly limits; <paramref name="extraConfig"/> goes on top.</summary>
    public static Task<VmManager> StartAsync(string extraConfig = "") => VmManager.StartAsync(new VmManagerOptions
    {
        SystemName = "test",
        Config = extraConfig + "\n" + TestConfig.Hocon,
    });
}
