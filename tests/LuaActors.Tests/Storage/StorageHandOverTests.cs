using LuaActors.Api;
using LuaActors.Messages;
using LuaActors.Tests.Support;

namespace LuaActors.Tests.Storage;

/// <summary>
/// A VM's storage follows it to another node (docs/storage.md, docs/guarantees.md): three cluster
/// nodes as actor systems in this process over one real SQLite journal (the shared database of a
/// cluster); one node leaves gracefully, or is lost without leaving, and the VMs it ran answer from
/// the survivors with the same <c>vm.storage</c> contents, Lua and C# alike, and take new writes.
/// The node-process version with PostgreSQL and SIGKILL is <c>PostgresStorageFailoverTests</c>.
/// </summary>
[Collection(ProcessHeavyCollection.Name)]
public sealed class StorageHandOverTests : IDisposable
{
    // The first storage call of an actor system waits for the SQL plugins to start (seconds).
    private static readonly VmOptions Slow = new() { Limits = new VmLimits(TimeoutMs: 60_000) };

    // A set, an overwrite, a delete and a transaction: every kind of write the journal keeps.
    private const string Writes = """
        vm.storage.set("id", vm.id())
        vm.storage.set("n", 1)
        vm.storage.set("n", 2)
        vm.storage.set("gone", "x")
        vm.storage.delete("gone")
        vm.storage.transaction(function(s) s.set("t.a", { 1.5, "two" }); s.set("t.b", true) end)
        """;

    private const string Reads = """
        local s = vm.storage
        return s.get("id"), s.get("n"), math.type(s.get("n")), s.get("gone"), s.get("t.a")[1], s.get("t.a")[2], s.get("t.b"), s.keys()
        """;

    private readonly SqliteJournal _journal = new();

    public void Dispose() => _journal.Dispose();

    [Fact]
    public async Task A_vm_handed_over_by_a_leaving_node_keeps_its_storage()
    {
        await using var cluster = await TestCluster.StartAsync(3, _journal.Hocon);
        var moved = await WriteOnVmsOfAsync(cluster, cluster.Nodes[2], "leave");
        await cluster.LeaveAsync(cluster.Nodes[2]);
        await StorageCameAlongAsync(cluster, moved);
    }

    [Fact]
    public async Task A_vm_of_a_lost_node_comes_back_on_a_survivor_with_its_storage()
    {
        await using var cluster = await TestCluster.StartAsync(3, _journal.Hocon);
        var moved = await WriteOnVmsOfAsync(cluster, cluster.Nodes[1], "lost");
        await cluster.CrashAsync(cluster.Nodes[1]);
        await StorageCameAlongAsync(cluster, moved);
    }

    /// <summary>Creates VMs until some run on <paramref name="node"/>, writes on every one; the ids of those on it.</summary>
    private static async Task<List<string>> WriteOnVmsOfAsync(TestCluster cluster, VmManager node, string prefix)
    {
        var ids = Enumerable.Range(1, 6).Select(i => $"{prefix}-{i}").ToList();
        var vms = await Task.WhenAll(ids.Select(id => cluster.Nodes[0].CreateVmAsync(id, Slow)));
        await Task.WhenAll(vms.Select(vm => vm.ExecuteAsync(Writes)));
        var address = TestCluster.AddressOf(node).ToString();
        var infos = await TestCluster.InfosAsync(cluster.Nodes[0], ids);
        var on = infos.Values.Where(i => i.Node == address).Select(i => i.VmId).ToList();
        Assert.NotEmpty(on);
        foreach (var id in on)
        {
            Assert.Equal(Expected(id), (await cluster.Nodes[0].ExecuteAsync(id, Reads)).ValuesJson);
        }

        return on;
    }

    private static async Task StorageCameAlongAsync(TestCluster cluster, List<string> moved)
    {
        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in moved)
        {
            // Answered by the VM's new incarnation on a survivor (its init script ran again; only storage carried state over).
            var read = await TestCluster.EventuallyAsync(() => cluster.Nodes[0].ExecuteAsync(id, Reads, new ExecuteOptions(TimeoutMs: 60_000)), TimeSpan.FromSeconds(90));
            Assert.Equal(Expected(id), read.ValuesJson);
            var info = await cluster.Nodes[1].GetVmInfoAsync(id);
            gone.Add(info.Node);

            var all = await cluster.Nodes[1].GetStorageAsync(id);
            Assert.Equal(["id", "n", "t.a", "t.b"], all.Keys);
            Assert.Equal(2, all["n"].GetInt64());

            // The new incarnation is the one writer: its writes land on what came along.
            await cluster.Nodes[0].ExecuteAsync(id, "vm.storage.set('n', vm.storage.get('n') + 1)");
            Assert.Equal(3, (await cluster.Nodes[1].GetStorageAsync(id, "n"))["n"].GetInt64());
        }

        var survivors = cluster.Nodes.Select(n => TestCluster.AddressOf(n).ToString()).ToHashSet();
        Assert.Subset(survivors, gone);
    }

    private static string Expected(string id) => $"[\"{id}\",2,\"integer\",null,1.5,\"two\",true,[\"id\",\"n\",\"t.a\",\"t.b\"]]";
}
