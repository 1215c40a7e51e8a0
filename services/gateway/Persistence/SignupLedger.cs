using Joinery.ServiceDefaults;

namespace Joinery.Gateway.Persistence;

/// <summary>
/// The gateway's record of the signups it accepted, written before anything is published. It answers "is this
/// email already in progress?" at once, before the saga has seen the first message, and knows accepted ids
/// whose saga does not exist yet.
/// </summary>
public interface ISignupLedger
{
    Task Initialize(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records <paramref name="signupId"/> for the email unless a signup for it is still live (in progress or
    /// completed), in which case that signup's id is returned and nothing is recorded.
    /// </summary>
    Task<(Guid SignupId, bool IsNew)> Accept(Guid signupId, string normalizedEmail, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default);

    /// <summary>Forgets an accepted id whose message could not be published, so the visitor can try again.</summary>
    Task Forget(Guid signupId, CancellationToken cancellationToken = default);

    Task<bool> Contains(Guid signupId, CancellationToken cancellationToken = default);
}

public sealed class SqliteSignupLedger(SqliteDatabase database) : ISignupLedger
{
    // One writer at a time in this process; the IMMEDIATE transaction covers other processes sharing the file.
    readonly SemaphoreSlim _gate = new(1, 1);

    public Task Initialize(CancellationToken cancellationToken = default) => database.Execute("""
        CREATE TABLE IF NOT EXISTS accepted_signups (
            signup_id        TEXT PRIMARY KEY,
            normalized_email TEXT NOT NULL,
            accepted_at      TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_accepted_signups_email ON accepted_signups (normalized_email, accepted_at);
        """, cancellationToken);

    public async Task<(Guid SignupId, bool IsNew)> Accept(Guid signupId, string normalizedEmail, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await database.Open(cancellationToken);
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
                insert.CommandText = "INSERT INTO accepted_signups (signup_id, normalized_email, accepted_at) VALUES ($id, $email, $at)";
                insert.Parameters.AddWithValue("$id", signupId.ToString());
                insert.Parameters.AddWithValue("$email", normalizedEmail);
                insert.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return (signupId, true);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task Forget(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
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
