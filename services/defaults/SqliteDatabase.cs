using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Joinery.ServiceDefaults;

/// <summary>
/// One SQLite file owned by one service. WAL lets readers run beside the single writer, and the busy timeout
/// makes concurrent consumers wait for the lock instead of failing.
/// </summary>
public sealed class SqliteDatabase
{
    readonly string _connectionString;
    int _initialized;

    public SqliteDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 30,
            Pooling = true,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>The file for <paramref name="service"/>: <c>ConnectionStrings:Sqlite</c> when set, else <c>{Persistence:DataDirectory}/{service}.db</c>.</summary>
    public static SqliteDatabase For(IConfiguration configuration, string service)
    {
        var explicitPath = configuration["Persistence:SqlitePath"];
        if (!string.IsNullOrWhiteSpace(explicitPath))
            return new SqliteDatabase(explicitPath);
        var directory = configuration["Persistence:DataDirectory"] ?? "data";
        return new SqliteDatabase(System.IO.Path.Combine(directory, service + ".db"));
    }

    public async Task<SqliteConnection> Open(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
        if (Interlocked.Exchange(ref _initialized, 1) == 0)
        {
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }
        return connection;
    }

    public async Task Execute(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = await Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>SQLite's constraint error, the one a second insert of the same key raises.</summary>
    public static bool IsUniqueViolation(SqliteException ex) => ex.SqliteErrorCode == 19;
}
