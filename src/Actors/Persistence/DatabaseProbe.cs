using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace LuaActors.Persistence;

/// <summary>
/// Opens a connection to the configured database and runs <c>SELECT 1</c>: at start (a node that
/// cannot reach it refuses to start, with the reason) and for <c>/readyz</c>.
/// </summary>
public static class DatabaseProbe
{
    /// <summary>Null when the database answers; else why not, in one line.</summary>
    /// <param name="starting">At start an SQLite data directory and file are created; later a missing one is a problem.</param>
    public static async Task<string?> ProblemAsync(PersistenceSettings settings, TimeSpan timeout, bool starting, CancellationToken cancellationToken = default)
    {
        if (!settings.IsDurable)
        {
            return null;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await using var connection = Open(settings, timeout, starting);
            await connection.OpenAsync(limit.Token).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(limit.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{settings.Describe()} did not answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return $"{settings.Describe()} cannot be reached: {OneLine(e.GetBaseException().Message)}";
        }
    }

    private static DbConnection Open(PersistenceSettings settings, TimeSpan timeout, bool starting)
    {
        if (settings.Mode == PersistenceMode.Sqlite)
        {
            if (!starting)
            {
                return new SqliteConnection(settings.EffectiveConnectionString + ";Mode=ReadWrite");
            }

            // The journal creates its tables, not the directory.
            Directory.CreateDirectory(Path.GetDirectoryName(settings.SqliteFile)!);
            return new SqliteConnection(settings.EffectiveConnectionString);
        }

        var builder = new NpgsqlConnectionStringBuilder(settings.ConnectionString)
        {
            Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
        };
        return new NpgsqlConnection(builder.ConnectionString);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
