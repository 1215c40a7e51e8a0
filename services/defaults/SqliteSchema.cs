using Microsoft.Data.Sqlite;

namespace Joinery.ServiceDefaults;

/// <summary>
/// A port's tables in a service's SQLite file, created before the first connection is handed out. A failed attempt
/// (a volume not mounted yet, a lock held too long) is made again on the next call: a cached task would keep the
/// failure, and the service, broken until restarted.
/// </summary>
public sealed class SqliteSchema(SqliteDatabase database, string createStatements)
{
    readonly SemaphoreSlim _creating = new(1, 1);
    volatile bool _created;

    public SqliteDatabase Database => database;

    /// <summary>Runs the statements once per process; they must be idempotent (<c>IF NOT EXISTS</c>), as other processes run them too.</summary>
    public async Task Ensure(CancellationToken cancellationToken = default)
    {
        if (_created)
            return;
        await _creating.WaitAsync(cancellationToken);
        try
        {
            if (_created)
                return;
            await database.Execute(createStatements, cancellationToken);
            _created = true;
        }
        finally
        {
            _creating.Release();
        }
    }

    /// <summary>A connection to a file in which the tables exist.</summary>
    public async Task<SqliteConnection> Open(CancellationToken cancellationToken = default)
    {
        await Ensure(cancellationToken);
        return await database.Open(cancellationToken);
    }

    /// <summary>A turn at writing a file in which the tables exist (see <see cref="SqliteDatabase.BeginWrite"/>).</summary>
    public async Task<SqliteWriter> BeginWrite(CancellationToken cancellationToken = default)
    {
        await Ensure(cancellationToken);
        return await database.BeginWrite(cancellationToken);
    }
}

public static class SqliteCommands
{
    /// <summary>A command with its parameters bound; a null value is bound as SQL NULL (ADO.NET wants DBNull there).</summary>
    public static SqliteCommand Command(this SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
