using Joinery.ServiceDefaults;
using Microsoft.Data.Sqlite;

namespace Joinery.Store.Persistence;

public sealed class SqliteSignupRepository(SqliteDatabase database) : ISignupRepository
{
    public Task Initialize(CancellationToken cancellationToken = default) => database.Execute("""
        CREATE TABLE IF NOT EXISTS signups (
            signup_id        TEXT PRIMARY KEY,
            name             TEXT NOT NULL,
            email            TEXT NOT NULL,
            normalized_email TEXT NOT NULL UNIQUE,
            status           TEXT NOT NULL,
            failure_reason   TEXT NULL,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL
        );
        """, cancellationToken);

    public async Task<AddSignupOutcome> Add(SignupRecord record, CancellationToken cancellationToken = default)
    {
        await using var writer = await database.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        // BEGIN IMMEDIATE takes the write lock up front, so the look-up and the write see the same state.
        await using var transaction = connection.BeginTransaction(deferred: false);

        var byId = await Find(connection, transaction, "signup_id = $key", record.SignupId.ToString(), cancellationToken);
        if (byId is not null)
            return AddSignupOutcome.AlreadyStored;

        var byEmail = await Find(connection, transaction, "normalized_email = $key", record.NormalizedEmail, cancellationToken);
        if (byEmail is { Status: not SignupRecord.Failed })
            return AddSignupOutcome.EmailTaken;

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // A failed record's email goes to the new signup; the failed one keeps its row under a retired key.
        command.CommandText = """
            UPDATE signups SET normalized_email = normalized_email || '#failed:' || signup_id
             WHERE normalized_email = $email AND status = 'Failed';
            INSERT INTO signups (signup_id, name, email, normalized_email, status, failure_reason, created_at, updated_at)
            VALUES ($id, $name, $rawEmail, $email, $status, NULL, $created, $created);
            """;
        command.Parameters.AddWithValue("$id", record.SignupId.ToString());
        command.Parameters.AddWithValue("$name", record.Name);
        command.Parameters.AddWithValue("$rawEmail", record.Email);
        command.Parameters.AddWithValue("$email", record.NormalizedEmail);
        command.Parameters.AddWithValue("$status", SignupRecord.Stored);
        command.Parameters.AddWithValue("$created", record.CreatedAt.ToString("O"));
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return AddSignupOutcome.Stored;
    }

    public async Task<bool> MarkFailed(Guid signupId, string reason, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var writer = await database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE signups SET status = $status, failure_reason = $reason, updated_at = $at WHERE signup_id = $id";
        command.Parameters.AddWithValue("$status", SignupRecord.Failed);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$at", at.ToString("O"));
        command.Parameters.AddWithValue("$id", signupId.ToString());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> Erase(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var writer = await database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "DELETE FROM signups WHERE signup_id = $id";
        command.Parameters.AddWithValue("$id", signupId.ToString());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<SignupRecord?> Find(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.Open(cancellationToken);
        return await Find(connection, null, "signup_id = $key", signupId.ToString(), cancellationToken);
    }

    static async Task<SignupRecord?> Find(SqliteConnection connection, SqliteTransaction? transaction, string where, string key,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT signup_id, name, email, normalized_email, status, failure_reason, created_at, updated_at FROM signups WHERE " + where;
        command.Parameters.AddWithValue("$key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return new SignupRecord(
            Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            DateTimeOffset.Parse(reader.GetString(6)), DateTimeOffset.Parse(reader.GetString(7)));
    }
}
