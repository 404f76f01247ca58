using System.Text.Json;
using Akka.Configuration;

namespace LuaActors.Persistence;

/// <summary>
/// The Akka configuration <see cref="PersistenceSettings"/> asks for: Akka.Persistence.Sql as the
/// default journal and snapshot store (so every persistent actor of the node uses the same
/// database, VM storage included), and sharding's remembered entities in that journal. With
/// persistence off, Akka's in-memory journal and snapshot store are the defaults, so persistent
/// actors still work (not durably), and sharding keeps its replicated in-memory store.
/// </summary>
public static class PersistencePlugins
{
    private const string Journal = "akka.persistence.journal.sql";
    private const string Snapshots = "akka.persistence.snapshot-store.sql";

    public static Config For(PersistenceSettings settings)
    {
        if (!settings.IsDurable)
        {
            return ConfigurationFactory.ParseString("""
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """);
        }

        var provider = settings.Mode == PersistenceMode.Sqlite ? "SQLite.MS" : "PostgreSQL";
        var connection = JsonSerializer.Serialize(settings.EffectiveConnectionString);
        // Akka's circuit breakers in front of the journal and the snapshot store: after
        // max-failures failed calls in a row every call fails at once, and one call is let through
        // every reset-timeout. Akka's defaults (30 s, and 60 s for snapshots, which every
        // recovery reads first) kept a node from writing for a minute or more after its database
        // came back; retry-interval bounds that wait instead.
        var breaker = $"circuit-breaker {{ max-failures = 5, call-timeout = {Duration(settings.WriteTimeout)}, reset-timeout = {Duration(settings.RetryInterval)} }}";
        // Sharding: the coordinator's allocations stay in Akka.DistributedData (Akka's advice:
        // state-store-mode = persistence is deprecated, and its allocations name regions of the
        // nodes that were stopped, which a full restart would first have to wait out); the shards
        // every coordinator knows and the entities every shard remembers go to the journal
        // (remember-entities-store = eventsourced), so they survive a full restart. Set here, over
        // everything: Akka.Cluster.Hosting's sharding defaults are laid over hocon/luaactors.conf's
        // akka.cluster.sharding section when WithClustering comes before WithLuaActors.
        // Remembered entities are never passivated for being idle.
        return ConfigurationFactory.ParseString($"""
            akka.persistence.journal.plugin = "{Journal}"
            akka.persistence.snapshot-store.plugin = "{Snapshots}"
            {Journal} {"{"}
              connection-string = {connection}
              provider-name = "{provider}"
              auto-initialize = on
              {breaker}
            {"}"}
            {Snapshots} {"{"}
              connection-string = {connection}
              provider-name = "{provider}"
              auto-initialize = on
              {breaker}
            {"}"}
            akka.cluster.sharding {"{"}
              state-store-mode = ddata
              remember-entities = on
              remember-entities-store = eventsourced
              passivate-idle-entity-after = off
            {"}"}
            """).WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    private static string Duration(TimeSpan value) =>
        ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) + "ms";
}
