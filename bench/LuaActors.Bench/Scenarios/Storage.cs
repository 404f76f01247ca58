using System.Diagnostics;
using LuaActors.Api;
using LuaActors.Bench.Shared;
using LuaActors.Messages;

namespace LuaActors.Bench.Scenarios;

/// <summary>
/// <c>vm.storage</c> on a real journal (docs/storage.md): per VM, how many acknowledged (durable)
/// <c>set</c>s a second, one VM alone and several VMs at once, and what one <c>get</c> costs, for
/// SQLite (a temporary data directory) and PostgreSQL (<c>LUAACTORS_TEST_POSTGRES</c>, else a
/// private server from Debian's binaries; neither: said, skipped, the status key partial).
/// </summary>
internal sealed partial class Storage : IScenario
{
    /// <summary>Keys the writes cycle over: the VM's storage stays small, as a game's or a service's would.</summary>
    private const int KeySpace = 100;

    public string Name => "storage";

    public string Description => "vm.storage: durable set/s (1 VM, and several at once) and get latency, SQLite and PostgreSQL";

    public async Task RunAsync(BenchContext context)
    {
        var sizes = new Sizes(
            SequentialWrites: context.Size(60, 1_000),
            ParallelVms: 4,
            WritesPerParallelVm: context.Size(25, 250),
            SingleWrites: context.Size(30, 300),
            Reads: context.Size(200, 2_000),
            ReadsInLua: context.Size(2_000, 20_000));
        var table = new Table("storage: vm.storage on a real journal", "journal", "set/s 1 VM", $"set/s {sizes.ParallelVms} VMs",
            "set p50 ms", "set p99 ms", "get p50 µs", "get p99 µs", "exec p50 µs", "get in Lua µs");

        var sqliteDir = Directory.CreateTempSubdirectory("luaactors-bench-storage-").FullName;
        try
        {
            var hocon = $"luaactors.persistence {{ mode = sqlite, sqlite.data-dir = \"{sqliteDir}\" }}";
            await MeasureAsync(context, "sqlite", "SQLite (temp data dir)", hocon, sizes, table);
        }
        finally
        {
            Directory.Delete(sqliteDir, recursive: true);
        }

        await using (var postgres = await BenchPostgres.StartAsync())
        {
            if (postgres is null)
            {
                BenchContext.Say("MISSING PEER: postgresql (" + BenchPostgres.NoServer + "): the storage_pg_* figures are skipped");
                context.Set("storage_status", "partial: missing postgresql");
            }
            else
            {
                var hocon = $"luaactors.persistence {{ mode = postgresql, postgresql.connection-string = \"{postgres.ConnectionString}\" }}";
                await MeasureAsync(context, "pg", "PostgreSQL (" + postgres.Describe + ")", hocon, sizes, table);
            }
        }

        table.Print();
        BenchContext.Say("set: a vm.storage.set answered only once the journal has it; get: an execute of 'return vm.storage.get(k)',");
        BenchContext.Say("next to an execute of 'return 1' (exec p50); get in Lua: the mean of many gets inside one execute.");
    }

    private sealed record Sizes(int SequentialWrites, int ParallelVms, int WritesPerParallelVm, int SingleWrites, int Reads, int ReadsInLua);

    private static async Task MeasureAsync(BenchContext context, string key, string label, string hocon, Sizes sizes, Table table)
    {
        BenchContext.Say($"{label}: starting a manager...");
        await using var manager = await context.StartManagerAsync(hocon);
        // The first storage call waits for the journal to start (seconds): give it room.
        var options = new VmOptions { Limits = new VmLimits(TimeoutMs: 120_000) };
        var vms = new List<LuaVm>();
        for (var i = 0; i < sizes.ParallelVms; i++)
        {
            vms.Add(await manager.CreateVmAsync($"storage-{key}-{i}", options));
        }

        var vm = vms[0];
        // Warm-up: the journal's start and first writes, every VM's storage actor, the JIT; the
        // first VM gets every key the reads ask for.
        var warm = Stopwatch.StartNew();
        var others = context.Size(10, KeySpace);
        await Task.WhenAll(vms.Select((v, i) => v.ExecuteAsync(Loop(i == 0 ? KeySpace : others))));
        BenchContext.Say($"{label}: warm-up (1 VM x {KeySpace} sets, {sizes.ParallelVms - 1} x {others}) {warm.Elapsed.TotalSeconds:F1} s");
        await CheckAsync(vm);

        // Sequential: one VM, one set after the other, each acknowledged once durable.
        var sequential = Stopwatch.StartNew();
        await vm.ExecuteAsync(Loop(sizes.SequentialWrites));
        var sequentialPerS = sizes.SequentialWrites / sequential.Elapsed.TotalSeconds;

        // Several VMs at once: each one's sets are still one after the other; the journal may batch across VMs.
        var parallel = Stopwatch.StartNew();
        await Task.WhenAll(vms.Select(v => v.ExecuteAsync(Loop(sizes.WritesPerParallelVm))));
        var parallelPerS = sizes.ParallelVms * sizes.WritesPerParallelVm / parallel.Elapsed.TotalSeconds;

        // One set per execute: what a caller waits for a durable write.
        var writes = new Samples(sizes.SingleWrites);
        for (var i = 0; i < sizes.SingleWrites; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await vm.ExecuteAsync($"vm.storage.set('single', {i})");
            writes.AddSince(started);
        }

        // Reads, alternating with a bare execute so the machine's noise hits both alike.
        var reads = new Samples(sizes.Reads);
        var bare = new Samples(sizes.Reads);
        for (var i = 0; i < sizes.Reads; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await vm.ExecuteAsync($"return vm.storage.get('k{i % KeySpace}')");
            reads.AddSince(started);
            started = Stopwatch.GetTimestamp();
            await vm.ExecuteAsync("return 1");
            bare.AddSince(started);
        }

        var inLua = Stopwatch.StartNew();
        await vm.ExecuteAsync($"local get = vm.storage.get for i = 1, {sizes.ReadsInLua} do get('k' .. (i % {KeySpace})) end");
        var inLuaUs = inLua.Elapsed.TotalMicroseconds / sizes.ReadsInLua;

        table.Row(label, sequentialPerS, parallelPerS, writes.PercentileMs(50), writes.PercentileMs(99),
            reads.PercentileUs(50), reads.PercentileUs(99), bare.PercentileUs(50), inLuaUs);
        var prefix = "storage_" + key + "_";
        context.Set(prefix + "writes_per_s", sequentialPerS);
        context.Set(prefix + "parallel_vms", sizes.ParallelVms);
        context.Set(prefix + "parallel_writes_per_s", parallelPerS);
        context.Set(prefix + "parallel_writes_per_s_per_vm", parallelPerS / sizes.ParallelVms);
        context.Set(prefix + "write_p50_ms", writes.PercentileMs(50));
        context.Set(prefix + "write_p99_ms", writes.PercentileMs(99));
        context.Set(prefix + "read_p50_us", reads.PercentileUs(50));
        context.Set(prefix + "read_p99_us", reads.PercentileUs(99));
        context.Set(prefix + "exec_p50_us", bare.PercentileUs(50));
        context.Set(prefix + "read_in_lua_mean_us", inLuaUs);
        context.Set(prefix + "sequential_writes", sizes.SequentialWrites);
        context.Set(prefix + "reads", sizes.Reads);
    }

    /// <summary><paramref name="count"/> sets, one after the other, over <see cref="KeySpace"/> keys.</summary>
    private static string Loop(int count) =>
        $"local set = vm.storage.set for i = 1, {count} do set('k' .. (i % {KeySpace}), {{ n = i, at = 'bench' }}) end";

    /// <summary>The figures mean nothing unless the writes are there.</summary>
    private static async Task CheckAsync(LuaVm vm)
    {
        var stored = await vm.GetStorageAsync("k");
        if (stored.Count != KeySpace)
        {
            throw new InvalidOperationException($"expected {KeySpace} keys stored, found {stored.Count}");
        }
    }
}
