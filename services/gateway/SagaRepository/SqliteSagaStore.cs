using System.Linq.Expressions;
using System.Text.Json;
using Joinery.ServiceDefaults;
using MassTransit;
using Microsoft.Data.Sqlite;

namespace Joinery.Gateway.SagaRepository;

/// <summary>
/// Saga instances as JSON rows, one table per saga type. The version column is the optimistic-concurrency guard:
/// an update only lands on the row it read, so a lost race is detected rather than overwriting the winner.
/// </summary>
public sealed class SqliteSagaStore<TSaga> : ISagaStore<TSaga> where TSaga : class, ISagaVersion
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);
    readonly SqliteDatabase _database;
    readonly string _table;
    readonly Lazy<Task> _initialized;

    public SqliteSagaStore(SqliteDatabase database, string? table = null)
    {
        _database = database;
        _table = table ?? "saga_" + typeof(TSaga).Name.ToLowerInvariant();
        _initialized = new Lazy<Task>(() => _database.Execute($"""
            CREATE TABLE IF NOT EXISTS {_table} (
                correlation_id TEXT PRIMARY KEY,
                version        INTEGER NOT NULL,
                data           TEXT NOT NULL,
                updated_at     TEXT NOT NULL
            );
            """));
    }

    public Task Initialize(CancellationToken cancellationToken = default) => _initialized.Value;

    public bool IsDuplicateKey(Exception exception) => exception is SqliteException ex && SqliteDatabase.IsUniqueViolation(ex);

    public async Task<TSaga?> Load(Guid correlationId, CancellationToken cancellationToken = default)
    {
        await Initialize();
        await using var connection = await _database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT data FROM {_table} WHERE correlation_id = $id";
        command.Parameters.AddWithValue("$id", correlationId.ToString());
        var data = await command.ExecuteScalarAsync(cancellationToken) as string;
        return data is null ? null : JsonSerializer.Deserialize<TSaga>(data, Json);
    }

    public async Task Insert(TSaga saga, CancellationToken cancellationToken = default)
    {
        await Initialize();
        await using var writer = await _database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = $"INSERT INTO {_table} (correlation_id, version, data, updated_at) VALUES ($id, $version, $data, $at)";
        Bind(command, saga);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task Update(TSaga saga, CancellationToken cancellationToken = default)
    {
        await Initialize();
        await using var writer = await _database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = $"""
            UPDATE {_table} SET version = $version, data = $data, updated_at = $at
             WHERE correlation_id = $id AND version = $expected
            """;
        Bind(command, saga);
        command.Parameters.AddWithValue("$expected", saga.Version - 1);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            throw new ConcurrencyException("Saga update failed: the instance changed since it was loaded", typeof(TSaga), saga.CorrelationId);
    }

    public async Task Delete(TSaga saga, CancellationToken cancellationToken = default)
    {
        await Initialize();
        await using var writer = await _database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = $"DELETE FROM {_table} WHERE correlation_id = $id AND version <= $version";
        command.Parameters.AddWithValue("$id", saga.CorrelationId.ToString());
        command.Parameters.AddWithValue("$version", saga.Version);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            throw new ConcurrencyException("Saga delete failed: the instance changed since it was loaded", typeof(TSaga), saga.CorrelationId);
    }

    /// <summary>
    /// Filters in memory: the instances are JSON, so a LINQ expression cannot become SQL. Fine for the embedded store;
    /// the MongoDB adapter translates the expression into a server-side query.
    /// </summary>
    public async Task<IReadOnlyList<TSaga>> Query(Expression<Func<TSaga, bool>> filter, CancellationToken cancellationToken = default)
    {
        await Initialize();
        var predicate = filter.Compile();
        var matches = new List<TSaga>();
        await using var connection = await _database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT data FROM {_table}";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var saga = JsonSerializer.Deserialize<TSaga>(reader.GetString(0), Json);
            if (saga is not null && predicate(saga))
                matches.Add(saga);
        }
        return matches;
    }

    /// <summary>Filters, orders and pages in memory, for the same reason as <see cref="Query"/>.</summary>
    public async Task<SagaPage<TSaga>> Page(Expression<Func<TSaga, bool>> filter, Expression<Func<TSaga, object>> newestFirstBy, int skip,
        int take, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        var matches = await Query(filter, cancellationToken);
        var key = newestFirstBy.Compile();
        var page = take == 0
            ? []
            : matches.OrderByDescending(key, Comparer<object>.Default).ThenBy(s => s.CorrelationId).Skip(skip).Take(take).ToList();
        return new SagaPage<TSaga>(page, matches.Count);
    }

    static void Bind(SqliteCommand command, TSaga saga)
    {
        command.Parameters.AddWithValue("$id", saga.CorrelationId.ToString());
        command.Parameters.AddWithValue("$version", saga.Version);
        command.Parameters.AddWithValue("$data", JsonSerializer.Serialize(saga, Json));
        command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
    }
}
