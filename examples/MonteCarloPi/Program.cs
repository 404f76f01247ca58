// Monte Carlo estimate of pi, first on one VM, then spread over a group of VMs with MapAsync.
// Run: dotnet run -c Release --project examples/MonteCarloPi [-- SAMPLES [VMS]]
using System.Diagnostics;
using LuaActors.Api;

var samples = args.Length > 0 ? long.Parse(args[0]) : 20_000_000;
var vmCount = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
const int Chunks = 16;

// Each input is one chunk of the work: how many points, and a seed of its own.
const string CountHits = """
    local job = ...
    math.randomseed(job.seed)
    local random, hits = math.random, 0
    for _ = 1, job.points do
      local x, y = random(), random()
      if x * x + y * y <= 1 then hits = hits + 1 end
    end
    return hits
    """;
var jobs = Enumerable.Range(1, Chunks).Select(i => new { points = samples / Chunks, seed = i }).ToList();
var slow = new ExecuteOptions(TimeoutMs: 600_000);

await using var manager = await VmManager.StartAsync(new VmManagerOptions { Config = "akka.loglevel = WARNING" });

async Task<(double Pi, TimeSpan Took)> EstimateAsync(string group, int vms)
{
    await manager.CreateGroupAsync(group, vms);
    var clock = Stopwatch.StartNew();
    var results = await manager.MapAsync(group, CountHits, jobs, slow);
    clock.Stop();
    var failed = results.FirstOrDefault(r => !r.Succeeded);
    if (failed is not null)
    {
        throw failed.Error!;
    }

    var hits = results.Sum(r => r.Result!.Get<long>());
    await manager.RemoveGroupAsync(group);
    return (4.0 * hits / (samples / Chunks * Chunks), clock.Elapsed);
}

var one = await EstimateAsync("solo", 1);
var many = await EstimateAsync("workers", vmCount);
Console.WriteLine($"samples: {samples:N0} in {Chunks} chunks");
Console.WriteLine($"1 VM:   pi ~ {one.Pi:F5} in {one.Took.TotalSeconds:F2} s");
Console.WriteLine($"{vmCount} VMs:  pi ~ {many.Pi:F5} in {many.Took.TotalSeconds:F2} s");
Console.WriteLine($"speed-up: {one.Took / many.Took:F2}x on {Environment.ProcessorCount} cores");
