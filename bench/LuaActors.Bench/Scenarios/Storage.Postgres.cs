using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LuaActors.Bench.Shared;
using Npgsql;

namespace LuaActors.Bench.Scenarios;

internal sealed partial class Storage
{
    /// <summary>
    /// A PostgreSQL database for the storage figures, dropped at the end: on the server
    /// <c>LUAACTORS_TEST_POSTGRES</c> names (scripts/test-postgres.sh start), else on a private
    /// server started from Debian's binaries (/usr/lib/postgresql/*/bin; initdb -A trust, as user
    /// postgres when run as root) and stopped, by its data directory, at the end.
    /// </summary>
    private sealed class BenchPostgres : IAsyncDisposable
    {
        private const string Variable = "LUAACTORS_TEST_POSTGRES";

        private readonly string _admin;
        private readonly string? _dataDir;
        private readonly string? _binDir;
        private readonly string _database;

        private BenchPostgres(string admin, string database, string? dataDir, string? binDir)
        {
            _admin = admin;
            _database = database;
            _dataDir = dataDir;
            _binDir = binDir;
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
        }

        public static string NoServer => $"{Variable} is not set and no server binaries in /usr/lib/postgresql/*/bin; apt-get install postgresql";

        public string ConnectionString { get; }

        public string Describe => _dataDir is null ? "the server " + Variable + " names" : "a private server on 127.0.0.1";

        public static async Task<BenchPostgres?> StartAsync()
        {
            var database = "luaactors_bench_" + Guid.NewGuid().ToString("N")[..8];
            if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
            {
                await ExecuteAsync(given, $"CREATE DATABASE \"{database}\"");
                return new BenchPostgres(given, database, null, null);
            }

            var binDir = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
                : null;
            if (binDir is null)
            {
                return null;
            }

            var dataDir = Path.Combine(Path.GetTempPath(), "luaactors-bench-pg-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dataDir);
            var port = FreePort();
            BenchContext.Say($"postgresql: starting a private server ({binDir}, port {port})...");
            if (IsRoot)
            {
                await RunAsync("chown", ["postgres", dataDir], asPostgres: false);
            }

            await RunAsync(Path.Combine(binDir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", "postgres"], asPostgres: true);
            await RunAsync(Path.Combine(binDir, "pg_ctl"),
                ["-D", dataDir, "-w", "-l", Path.Combine(dataDir, "server.log"), "-o", $"-p {port} -k {dataDir} -c listen_addresses=127.0.0.1", "start"],
                asPostgres: true);
            var admin = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
            var server = new BenchPostgres(admin, database, dataDir, binDir);
            await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            if (_dataDir is null)
            {
                await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
                return;
            }

            await RunAsync(Path.Combine(_binDir!, "pg_ctl"), ["-D", _dataDir, "-m", "immediate", "-w", "stop"], asPostgres: true, check: false);
            Directory.Delete(_dataDir, recursive: true);
        }

        private static bool IsRoot => Environment.UserName == "root";

        private static async Task ExecuteAsync(string connectionString, string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>Runs a server tool, as user postgres when we are root (initdb refuses root).</summary>
        private static async Task RunAsync(string program, string[] args, bool asPostgres, bool check = true)
        {
            var start = new ProcessStartInfo(asPostgres && IsRoot ? "runuser" : program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (asPostgres && IsRoot)
            {
                foreach (var arg in (string[])["-u", "postgres", "--", program])
                {
                    start.ArgumentList.Add(arg);
                }
            }

            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start " + program);
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (check && process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {process.ExitCode}: {await error}{await output}");
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
