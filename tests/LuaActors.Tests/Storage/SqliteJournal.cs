namespace LuaActors.Tests.Storage;

/// <summary>
/// A real SQLite database in a temporary folder, as the journal and snapshot store of the actor
/// systems that use <see cref="Hocon"/> (Akka.Persistence.Sql, provider SQLite.MS). Deleted when disposed.
/// </summary>
internal sealed class SqliteJournal : IDisposable
{
    public SqliteJournal()
    {
        Folder = Directory.CreateTempSubdirectory("luaactors-storage-").FullName;
        Hocon = Config(Path.Combine(Folder, "journal.db"));
    }

    public string Folder { get; }

    /// <summary>HOCON that makes the SQL plugins over this database Akka's default journal and snapshot store.</summary>
    public string Hocon { get; }

    /// <summary>The same plugins over a database that cannot be opened: every storage call meets a failed journal.</summary>
    public static string Unreachable() => Config("/nonexistent-luaactors-dir/journal.db");

    // The plugins' defaults first: in HOCON the later value of a key wins.
    private static string Config(string file) => PluginDefaults + $$"""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.sql"
            sql {
              connection-string = "Data Source={{file}}"
              provider-name = "SQLite.MS"
              auto-initialize = on
            }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.sql"
            sql {
              connection-string = "Data Source={{file}}"
              provider-name = "SQLite.MS"
              auto-initialize = on
            }
          }
        }

        """;

    /// <summary>The plugins' own reference HOCON (embedded in Akka.Persistence.Sql), under the settings below.</summary>
    private static readonly string PluginDefaults = ReadPluginDefaults();

    private static string ReadPluginDefaults()
    {
        // By name: the Actors project keeps the package's compile assets to itself (its LINQ extensions).
        var assembly = System.Reflection.Assembly.Load("Akka.Persistence.Sql");
        var text = new System.Text.StringBuilder();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".conf", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            text.Append('\n').Append(reader.ReadToEnd()).Append('\n');
        }

        return text.ToString();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Folder, recursive: true);
    }
}
