using Akka.Configuration;
using LuaActors.Api;

namespace LuaActors.Persistence;

/// <summary>Where desired state is kept: <c>luaactors.persistence.mode</c>.</summary>
public enum PersistenceMode
{
    /// <summary>Nowhere durable: Akka's in-memory journal, gone with the process.</summary>
    Off,

    /// <summary>An SQLite file in a data directory: one node, or embedding.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database that every node of a cluster shares.</summary>
    Postgresql,
}

/// <summary>
/// <c>luaactors.persistence</c> (hocon/luaactors.conf; docs/configuration.md, "Persistence"):
/// which database keeps the VM specs and the remembered entities, and how long a request may
/// wait for it.
/// </summary>
public sealed record PersistenceSettings(
    PersistenceMode Mode,
    string DataDirectory,
    string ConnectionString,
    TimeSpan WriteTimeout,
    TimeSpan RecoveryTimeout,
    int SnapshotEvery,
    TimeSpan RetryInterval)
{
    public const string Section = "luaactors.persistence";

    public static readonly IReadOnlyList<string> Modes = ["off", "sqlite", "postgresql"];

    /// <summary>Whether specs outlive the process.</summary>
    public bool IsDurable => Mode != PersistenceMode.Off;

    /// <summary>The SQLite database file of <see cref="DataDirectory"/>.</summary>
    public string SqliteFile => Path.Combine(Path.GetFullPath(DataDirectory), "luaactors.db");

    /// <summary>The ADO.NET connection string the journal uses.</summary>
    public string EffectiveConnectionString => Mode switch
    {
        // Opened for every operation, not pooled: a data directory that goes away (a volume
        // unmounted, a directory moved) fails the next write instead of writing on into a file
        // no longer there. (~14 ms a write is the fsync; an open costs far less.)
        PersistenceMode.Sqlite => $"Data Source={SqliteFile};Pooling=False",
        PersistenceMode.Postgresql => ConnectionString,
        _ => "",
    };

    /// <summary>Reads and checks the section; a bad value throws naming its key and what it takes.</summary>
    /// <exception cref="LuaActorsConfigurationException">A value out of range.</exception>
    public static PersistenceSettings From(Config config)
    {
        var section = config.GetConfig(Section) ?? Config.Empty;
        var modeText = (section.GetString("mode", "off") ?? "off").Trim().ToLowerInvariant();
        var mode = modeText switch
        {
            "off" or "" => PersistenceMode.Off,
            "sqlite" => PersistenceMode.Sqlite,
            "postgresql" => PersistenceMode.Postgresql,
            _ => throw new LuaActorsConfigurationException(Section + ".mode", $"'{modeText}' is not known", string.Join(" or ", Modes)),
        };
        var dataDirectory = section.GetString("sqlite.data-dir", "luaactors-data") ?? "";
        var connectionString = section.GetString("postgresql.connection-string", "") ?? "";
        if (mode == PersistenceMode.Sqlite && string.IsNullOrWhiteSpace(dataDirectory))
        {
            throw new LuaActorsConfigurationException(Section + ".sqlite.data-dir", "it is empty", "a directory the node may create and write");
        }

        if (mode == PersistenceMode.Postgresql && string.IsNullOrWhiteSpace(connectionString))
        {
            throw new LuaActorsConfigurationException(Section + ".postgresql.connection-string", "it is empty with mode = postgresql",
                "an Npgsql connection string, e.g. \"Host=db;Port=5432;Database=luaactors;Username=luaactors;Password=…\"");
        }

        if (mode == PersistenceMode.Postgresql)
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException e)
            {
                throw new LuaActorsConfigurationException(Section + ".postgresql.connection-string", e.Message,
                    "an Npgsql connection string, e.g. \"Host=db;Port=5432;Database=luaactors;Username=luaactors;Password=…\"");
            }
        }

        var writeTimeout = Positive(section, "write-timeout", TimeSpan.FromSeconds(10));
        var recoveryTimeout = Positive(section, "recovery-timeout", TimeSpan.FromSeconds(60));
        var snapshotEvery = section.GetInt("snapshot-every", 100);
        if (snapshotEvery < 1)
        {
            throw new LuaActorsConfigurationException(Section + ".snapshot-every", $"{snapshotEvery} is too small", "a whole number of 1 or more");
        }

        var retryInterval = Positive(section, "retry-interval", TimeSpan.FromSeconds(2));
        return new PersistenceSettings(mode, dataDirectory, connectionString, writeTimeout, recoveryTimeout, snapshotEvery, retryInterval);
    }

    /// <summary>The database as an operator would name it in a message (no password).</summary>
    public string Describe() => Mode switch
    {
        PersistenceMode.Sqlite => $"the SQLite database {SqliteFile}",
        PersistenceMode.Postgresql => DescribePostgresql(),
        _ => "the in-memory journal",
    };

    private string DescribePostgresql()
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        return $"the PostgreSQL database {builder.Database ?? builder.Username} on {builder.Host}:{builder.Port}";
    }

    private static TimeSpan Positive(Config section, string key, TimeSpan fallback)
    {
        var value = section.GetTimeSpan(key, fallback);
        return value > TimeSpan.Zero
            ? value
            : throw new LuaActorsConfigurationException($"{Section}.{key}", $"{value} is not positive", "a duration above 0");
    }
}
