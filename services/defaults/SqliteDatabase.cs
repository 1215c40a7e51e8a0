using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Joinery.ServiceDefaults;

/// <summary>
/// One SQLite file owned by one service. WAL lets readers run beside the single writer. Writers of this process
/// take turns through <see cref="BeginWrite"/>, so they wait in the process for the one before them instead of
/// colliding on the file lock, where SQLite's busy handler would put them to sleep for 1-25 ms a try while the lock
/// is free again in a fraction of a millisecond. The busy timeout stays for writers in other processes.
/// </summary>
/// <remarks>
/// Durability: WAL with <c>synchronous = NORMAL</c>. A committed transaction is in the WAL file (the operating
/// system's page cache) before the commit returns, so it survives the process being killed or crashing; only a
/// power loss or kernel crash can lose the last commits before a checkpoint. <c>FULL</c> would add an fsync to every
/// commit.
/// </remarks>
public sealed class SqliteDatabase
{
    // One gate per file, not per instance: tests and hosts may create several instances for the same path.
    static readonly ConcurrentDictionary<string, SqliteWriteGate> WriteGates = new(StringComparer.Ordinal);

    readonly string _connectionString;
    readonly SqliteWriteGate _writeGate;
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
        _writeGate = WriteGates.GetOrAdd(Path, _ => new SqliteWriteGate());
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

    /// <summary>
    /// A connection on which this process writes the file alone until the writer is disposed: every other
    /// <see cref="BeginWrite"/> on the same file waits for it, asynchronously (see <see cref="SqliteWriteGate"/>).
    /// Reads go through <see cref="Open"/> and never wait here. Do not begin a second write of the same file while
    /// holding one: it would wait for itself.
    /// </summary>
    public async Task<SqliteWriter> BeginWrite(CancellationToken cancellationToken = default)
    {
        var connection = await Open(cancellationToken);
        try
        {
            await _writeGate.Enter(cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return new SqliteWriter(connection, _writeGate);
    }

    /// <summary>
    /// Runs schema statements. Not through the write gate: they run once at start-up, and a store initialising
    /// lazily inside another store's write (a saga load within the ledger's) must not wait for that write.
    /// </summary>
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
