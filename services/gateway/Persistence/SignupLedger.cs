using System.Text.Json;
using Joinery.Contracts;
using Joinery.ServiceDefaults;

namespace Joinery.Gateway.Persistence;

/// <summary>
/// The gateway's record of the signups it accepted, written before anything is published. It answers "is this
/// email already in progress?" at once, before the saga has seen the first message, knows accepted ids whose saga
/// does not exist yet, and is the outbox: an accepted signup whose message has not reached the broker stays here,
/// unpublished, until the dispatcher gets it through, so a 202 is never given for a signup that could be lost.
/// </summary>
public interface ISignupLedger
{
    Task Initialize(CancellationToken cancellationToken = default);

    /// <summary>
    /// Durably records <paramref name="message"/> as accepted and not yet published, unless a signup for the same
    /// email is still live, in which case that signup's id is returned and nothing is recorded.
    /// </summary>
    Task<(Guid SignupId, bool IsNew)> Accept(SignupRequested message, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default);

    Task MarkPublished(Guid signupId, CancellationToken cancellationToken = default);

    /// <summary>Accepted signups still waiting for the broker, accepted before <paramref name="acceptedBefore"/>, oldest first.</summary>
    Task<IReadOnlyList<SignupRequested>> Unpublished(DateTimeOffset acceptedBefore, int max, CancellationToken cancellationToken = default);

    /// <summary>Forgets an accepted signup (a person erased by an admin leaves no ledger row behind).</summary>
    Task Forget(Guid signupId, CancellationToken cancellationToken = default);

    Task<bool> Contains(Guid signupId, CancellationToken cancellationToken = default);
}

public sealed class SqliteSignupLedger(SqliteDatabase database) : ISignupLedger
{
    readonly PublishedMarks _published = new(database);

    public async Task Initialize(CancellationToken cancellationToken = default)
    {
        await database.Execute("""
            CREATE TABLE IF NOT EXISTS accepted_signups (
                signup_id        TEXT PRIMARY KEY,
                normalized_email TEXT NOT NULL,
                accepted_at      TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_accepted_signups_email ON accepted_signups (normalized_email, accepted_at);
            """, cancellationToken);
        // Databases created before the ledger became the outbox gain its two columns in place.
        foreach (var column in new[] { "payload TEXT NULL", "published_at TEXT NULL" })
        {
            try
            {
                await database.Execute($"ALTER TABLE accepted_signups ADD COLUMN {column}", cancellationToken);
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.Message.Contains("duplicate column"))
            {
            }
        }
        await database.Execute(
            "CREATE INDEX IF NOT EXISTS ix_accepted_signups_unpublished ON accepted_signups (accepted_at) WHERE published_at IS NULL AND payload IS NOT NULL",
            cancellationToken);
    }

    public async Task<(Guid SignupId, bool IsNew)> Accept(SignupRequested message, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default)
    {
        var (signupId, normalizedEmail, payload) = (message.SignupId, message.NormalizedEmail, JsonSerializer.Serialize(message));
        // The write gate makes this process's look-up and insert one step; the IMMEDIATE transaction does the same
        // against other processes sharing the file.
        await using var writer = await database.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        await using var transaction = connection.BeginTransaction(deferred: false);

        await using (var find = connection.CreateCommand())
        {
            find.Transaction = transaction;
            find.CommandText = "SELECT signup_id FROM accepted_signups WHERE normalized_email = $email ORDER BY accepted_at DESC LIMIT 1";
            find.Parameters.AddWithValue("$email", normalizedEmail);
            if (await find.ExecuteScalarAsync(cancellationToken) is string existing)
            {
                var existingId = Guid.Parse(existing);
                if (!await hasFailed(existingId))
                    return (existingId, false);
            }
        }

        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO accepted_signups (signup_id, normalized_email, accepted_at, payload, published_at)
                VALUES ($id, $email, $at, $payload, NULL)
                """;
            insert.Parameters.AddWithValue("$payload", payload);
            insert.Parameters.AddWithValue("$id", signupId.ToString());
            insert.Parameters.AddWithValue("$email", normalizedEmail);
            insert.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.UtcDateTime.ToString("O"));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return (signupId, true);
    }

    /// <summary>Returns once the mark is committed, together with the others that were waiting (see <see cref="PublishedMarks"/>).</summary>
    public Task MarkPublished(Guid signupId, CancellationToken cancellationToken = default) => _published.Mark(signupId, cancellationToken);

    public async Task<IReadOnlyList<SignupRequested>> Unpublished(DateTimeOffset acceptedBefore, int max, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT payload FROM accepted_signups
             WHERE published_at IS NULL AND payload IS NOT NULL AND accepted_at < $before
             ORDER BY accepted_at LIMIT $max
            """;
        command.Parameters.AddWithValue("$before", acceptedBefore.UtcDateTime.ToString("O"));
        command.Parameters.AddWithValue("$max", max);
        var messages = new List<SignupRequested>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            messages.Add(JsonSerializer.Deserialize<SignupRequested>(reader.GetString(0))!);
        return messages;
    }

    public async Task Forget(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var writer = await database.BeginWrite(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "DELETE FROM accepted_signups WHERE signup_id = $id";
        command.Parameters.AddWithValue("$id", signupId.ToString());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> Contains(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM accepted_signups WHERE signup_id = $id";
        command.Parameters.AddWithValue("$id", signupId.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
