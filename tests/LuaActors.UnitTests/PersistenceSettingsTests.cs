using System.CommandLine;
using Akka.Configuration;
using LuaActors.Api;
using LuaActors.Configuration;
using LuaActors.Host;
using LuaActors.Persistence;

namespace LuaActors.UnitTests;

/// <summary>
/// luaactors.persistence: the node's flags and variables (flags > LUAACTORS_* > --config >
/// node.conf), the options' checks, and the Akka plugins each mode configures.
/// </summary>
public sealed class PersistenceSettingsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static PersistenceSettings Resolve(NodeOptions options, Func<string, string?> env) =>
        PersistenceSettings.From(NodeSettings.Resolve(options, env).Hocon.WithFallback(LuaActorsConfig.Default));

    [Fact]
    public void A_node_persists_to_sqlite_in_luaactors_data_by_default()
    {
        var settings = Resolve(new NodeOptions(), Env());
        Assert.Equal(PersistenceMode.Sqlite, settings.Mode);
        Assert.Equal(Path.GetFullPath(Path.Combine("luaactors-data", "luaactors.db")), settings.SqliteFile);
    }

    [Fact]
    public void Flags_win_over_variables_and_imply_their_mode()
    {
        var env = Env(("LUAACTORS_PERSISTENCE", "postgresql"), ("LUAACTORS_CONNECTION_STRING", "Host=db;Database=x"));
        Assert.Equal(PersistenceMode.Postgresql, Resolve(new NodeOptions(), env).Mode);
        Assert.Equal(PersistenceMode.Sqlite, Resolve(new NodeOptions { DataDir = "/tmp/d" }, env).Mode);
        Assert.Equal(PersistenceMode.Off, Resolve(new NodeOptions { Persistence = "off" }, env).Mode);
        Assert.Equal(PersistenceMode.Postgresql, Resolve(new NodeOptions { ConnectionString = "Host=db;Database=y" }, Env()).Mode);
        Assert.Equal(PersistenceMode.Sqlite, Resolve(new NodeOptions(), Env(("LUAACTORS_DATA_DIR", "/tmp/e"))).Mode);
    }

    [Fact]
    public void No_persistence_is_mode_off()
    {
        var result = new RootCommand("luaactors") { NodeCommandLine.Create() }.Parse(["node", "--no-persistence", "--data-dir", "/tmp/x"]);
        Assert.Empty(result.Errors);
        Assert.Equal("off", NodeCommandLine.OptionsOf(result).Persistence);
    }

    [Fact]
    public void An_unknown_mode_or_a_postgresql_mode_without_a_connection_string_is_refused_naming_it()
    {
        Assert.Contains("sqlite, postgresql or off",
            Assert.Throws<NodeOptionsException>(() => Resolve(new NodeOptions { Persistence = "mysql" }, Env())).Message);
        var missing = Assert.Throws<LuaActorsConfigurationException>(() =>
            new LuaActorsOptions { Persistence = { Mode = "postgresql" } }.Validate());
        Assert.Equal("luaactors.persistence.postgresql.connection-string", missing.Key);
        var unknown = Assert.Throws<LuaActorsConfigurationException>(() => new LuaActorsOptions { Persistence = { Mode = "disk" } }.Validate());
        Assert.Equal("luaactors.persistence.mode", unknown.Key);
        Assert.Equal("off or sqlite or postgresql", unknown.Allowed);
    }

    [Fact]
    public void Durable_modes_make_the_sql_plugins_the_default_journal_and_remember_entities_in_it()
    {
        var sqlite = PersistencePlugins.For(PersistenceSettings.From(
            ConfigurationFactory.ParseString("luaactors.persistence { mode = sqlite, sqlite.data-dir = \"/tmp/p\" }").WithFallback(LuaActorsConfig.Default)));
        Assert.Equal("akka.persistence.journal.sql", sqlite.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.snapshot-store.sql", sqlite.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.Equal("SQLite.MS", sqlite.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.StartsWith("Data Source=/tmp/p/luaactors.db", sqlite.GetString("akka.persistence.journal.sql.connection-string"), StringComparison.Ordinal);
        Assert.True(sqlite.GetBoolean("akka.persistence.journal.sql.auto-initialize"));
        Assert.Equal("eventsourced", sqlite.GetString("akka.cluster.sharding.remember-entities-store"));
        Assert.True(sqlite.GetBoolean("akka.cluster.sharding.remember-entities"));

        var off = PersistencePlugins.For(PersistenceSettings.From(LuaActorsConfig.Default));
        Assert.Equal("akka.persistence.journal.inmem", off.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.snapshot-store.inmem", off.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.False(off.HasPath("akka.cluster.sharding.remember-entities-store"));
    }

    [Fact]
    public void The_journal_and_snapshot_breakers_try_the_database_again_every_retry_interval()
    {
        // Akka's defaults (30 s, 60 s for snapshots) kept a node from writing for a minute after its database came back.
        var config = PersistencePlugins.For(PersistenceSettings.From(
            ConfigurationFactory.ParseString("luaactors.persistence { mode = sqlite, sqlite.data-dir = \"/tmp/p\", retry-interval = 3s }").WithFallback(LuaActorsConfig.Default)));
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan(plugin + ".circuit-breaker.reset-timeout"));
            Assert.Equal(TimeSpan.FromSeconds(10), config.GetTimeSpan(plugin + ".circuit-breaker.call-timeout"));
        }

        Assert.Equal(TimeSpan.FromSeconds(2), PersistenceSettings.From(LuaActorsConfig.Default).RetryInterval);
        var zero = Assert.Throws<LuaActorsConfigurationException>(() => PersistenceSettings.From(
            ConfigurationFactory.ParseString("luaactors.persistence.retry-interval = 0s").WithFallback(LuaActorsConfig.Default)));
        Assert.Equal("luaactors.persistence.retry-interval", zero.Key);
    }
}
