using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CliWrap;
using CliWrap.Buffered;
using Npgsql;

namespace LuaActors.Tests.Persistence;

/// <summary>
/// A real PostgreSQL for a test, with a database of its own (dropped at the end). The server is
/// the one LUAACTORS_TEST_POSTGRES names (.ci/run starts one: scripts/test-postgres.sh); without
/// it, a private server this test starts from Debian's binaries (/usr/lib/postgresql/*/bin:
/// initdb -A trust, as user postgres when run as root) and stops. <see cref="StartAsync"/> gives
/// null only when neither exists: the test is then skipped, saying why (and .ci/run fails).
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    public const string Variable = "LUAACTORS_TEST_POSTGRES";

    private readonly string _adminConnection;
    private readonly string? _dataDir;
    private readonly string? _binDir;

    private PostgresServer(string adminConnection, string database, string? dataDir, string? binDir)
    {
        _adminConnection = adminConnection;
        _dataDir = dataDir;
        _binDir = binDir;
        Database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnection) { Database = database }.ConnectionString;
    }

    /// <summary>The test's own database.</summary>
    public string ConnectionString { get; }

    public string Database { get; }

    /// <summary>Why no server could be had, when <see cref="StartAsync"/> returned null.</summary>
    public static string NoServer =>
        $"no PostgreSQL for this test: {Variable} is not set and no server binaries are installed " +
        "(/usr/lib/postgresql/*/bin; apt-get install postgresql, or run scripts/test-postgres.sh start)";

    /// <param name="ownServer">A private server even when LUAACTORS_TEST_POSTGRES names one: a test that stops and starts it.</param>
    public static async Task<PostgresServer?> StartAsync(bool ownServer = false)
    {
        var database = "luaactors_test_" + Guid.NewGuid().ToString("N")[..12];
        if (!ownServer && Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            // Given: it must work (CI must not skip).
            await CreateDatabaseAsync(given, database);
            return new PostgresServer(given, database, null, null);
        }

        var binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (binDir is null)
        {
            return null;
        }

        var dataDir = Path.Combine(Path.GetTempPath(), "luaactors-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var port = FreePort();
        await AsPostgresAsync("chown", ["postgres", dataDir], root: true);
        await AsPostgresAsync(Path.Combine(binDir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", "postgres"]);
        await AsPostgresAsync(Path.Combine(binDir, "pg_ctl"),
            ["-D", dataDir, "-w", "-l", Path.Combine(dataDir, "server.log"), "-o", $"-p {port} -k {dataDir} -c listen_addresses=127.0.0.1", "start"]);
        var admin = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        var server = new PostgresServer(admin, database, dataDir, binDir);
        await CreateDatabaseAsync(admin, database);
        return server;
    }

    /// <summary>Stops a private server now (the "database lost" test); a shared one cannot be.</summary>
    public bool CanStop => _dataDir is not null;

    public async Task StopServerAsync() =>
        await AsPostgresAsync(Path.Combine(_binDir!, "pg_ctl"), ["-D", _dataDir!, "-m", "immediate", "-w", "stop"]);

    /// <summary>Starts a private server stopped by <see cref="StopServerAsync"/> again, on the same port, with the same data.</summary>
    public async Task StartServerAgainAsync()
    {
        var port = new NpgsqlConnectionStringBuilder(_adminConnection).Port;
        await AsPostgresAsync(Path.Combine(_binDir!, "pg_ctl"),
            ["-D", _dataDir!, "-w", "-l", Path.Combine(_dataDir!, "server.log"), "-o", $"-p {port} -k {_dataDir} -c listen_addresses=127.0.0.1", "start"]);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_dataDir is null)
        {
            await using var connection = new NpgsqlConnection(_adminConnection);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            return;
        }

        await Cli.Wrap("/bin/sh").WithArguments(["-c", $"{AsPostgresPrefix()}'{Path.Combine(_binDir!, "pg_ctl")}' -D '{_dataDir}' -m immediate -w stop"])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    private static async Task CreateDatabaseAsync(string admin, string database)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
        await create.ExecuteNonQueryAsync();
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string AsPostgresPrefix() => IsRoot ? "runuser -u postgres -- " : "";

    /// <summary>Runs a server tool as user postgres when we are root (initdb refuses root).</summary>
    private static async Task AsPostgresAsync(string program, string[] args, bool root = false)
    {
        if (root && !IsRoot)
        {
            return;
        }

        var command = IsRoot && !root
            ? Cli.Wrap("runuser").WithArguments(["-u", "postgres", "--", program, .. args])
            : Cli.Wrap(program).WithArguments(args);
        var result = await command.WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: exit {result.ExitCode.ToString(CultureInfo.InvariantCulture)}: {result.StandardError}{result.StandardOutput}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
