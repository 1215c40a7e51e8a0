using Joinery.ServiceDefaults;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Joinery.Gateway.Admin;

/// <summary>
/// One admin action. Anonymous on purpose: it names the signup by id and the admin who acted, never the person's
/// name or email, so it can outlive the person's erasure.
/// </summary>
public sealed record AdminAuditEntry(DateTimeOffset At, string Actor, string Action, Guid SignupId, string? Detail);

/// <summary>The gateway's record of what admins did: one small port, a SQLite and a MongoDB adapter.</summary>
public interface IAdminAuditLog
{
    Task Record(AdminAuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The latest entries, newest first.</summary>
    Task<IReadOnlyList<AdminAuditEntry>> Recent(int take, CancellationToken cancellationToken = default);
}

public sealed class SqliteAdminAuditLog : IAdminAuditLog
{
    readonly SqliteDatabase _database;
    readonly Lazy<Task> _initialized;

    public SqliteAdminAuditLog(SqliteDatabase database)
    {
        _database = database;
        _initialized = new Lazy<Task>(() => _database.Execute("""
            CREATE TABLE IF NOT EXISTS admin_audit (
                seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                at        TEXT NOT NULL,
                actor     TEXT NOT NULL,
                action    TEXT NOT NULL,
                signup_id TEXT NOT NULL,
                detail    TEXT NULL
            );
            """));
    }

    public async Task Record(AdminAuditEntry entry, CancellationToken cancellationToken = default)
    {
        await _initialized.Value;
        await using var writer = await _database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO admin_audit (at, actor, action, signup_id, detail) VALUES ($at, $actor, $action, $id, $detail)";
        command.Parameters.AddWithValue("$at", entry.At.ToString("O"));
        command.Parameters.AddWithValue("$actor", entry.Actor);
        command.Parameters.AddWithValue("$action", entry.Action);
        command.Parameters.AddWithValue("$id", entry.SignupId.ToString());
        command.Parameters.AddWithValue("$detail", (object?)entry.Detail ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AdminAuditEntry>> Recent(int take, CancellationToken cancellationToken = default)
    {
        await _initialized.Value;
        await using var connection = await _database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, actor, action, signup_id, detail FROM admin_audit ORDER BY seq DESC LIMIT $take";
        command.Parameters.AddWithValue("$take", take);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<AdminAuditEntry>();
        while (await reader.ReadAsync(cancellationToken))
            entries.Add(new AdminAuditEntry(DateTimeOffset.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2),
                Guid.Parse(reader.GetString(3)), reader.IsDBNull(4) ? null : reader.GetString(4)));
        return entries;
    }
}

public sealed class MongoAdminAuditLog(IMongoDatabase database) : IAdminAuditLog
{
    readonly IMongoCollection<BsonDocument> _collection = database.GetCollection<BsonDocument>("admin_audit");

    public Task Record(AdminAuditEntry entry, CancellationToken cancellationToken = default) =>
        _collection.InsertOneAsync(new BsonDocument
        {
            ["at"] = entry.At.UtcDateTime,
            ["actor"] = entry.Actor,
            ["action"] = entry.Action,
            ["signupId"] = entry.SignupId.ToString(),
            ["detail"] = (BsonValue?)entry.Detail ?? BsonNull.Value,
        }, cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<AdminAuditEntry>> Recent(int take, CancellationToken cancellationToken = default)
    {
        var documents = await _collection.Find(FilterDefinition<BsonDocument>.Empty)
            .Sort(Builders<BsonDocument>.Sort.Descending("at").Descending("_id"))
            .Limit(take)
            .ToListAsync(cancellationToken);
        return documents.Select(d => new AdminAuditEntry(
            new DateTimeOffset(d["at"].ToUniversalTime(), TimeSpan.Zero), d["actor"].AsString, d["action"].AsString,
            Guid.Parse(d["signupId"].AsString), d["detail"].IsBsonNull ? null : d["detail"].AsString)).ToList();
    }
}
