namespace LuaActors.Bench.Shared;

/// <summary>
/// The service-path peers found on PATH. A missing one is said plainly, with the package that
/// brings it, and noted in the scenario's status key; the scenario measures the rest.
/// </summary>
internal sealed record PeerSet(string? Wrk, string? RedisServer, string? RedisBenchmark)
{
    public static PeerSet Find(BenchContext context, string statusKey)
    {
        var peers = new PeerSet(Peers.Find("wrk"), Peers.Find("redis-server"), Peers.Find("redis-benchmark"));
        var missing = new List<string>();
        if (peers.Wrk is null)
        {
            missing.Add("wrk (apt-get install wrk): the node's HTTP figures are skipped");
        }

        if (peers.RedisServer is null || peers.RedisBenchmark is null)
        {
            missing.Add("redis-server/redis-benchmark (apt-get install redis-server): the Redis figures are skipped");
        }

        foreach (var line in missing)
        {
            BenchContext.Say("MISSING PEER: " + line);
        }

        if (missing.Count > 0)
        {
            context.Set(statusKey, "partial: missing " + string.Join("; ", missing));
        }

        return peers;
    }
}
