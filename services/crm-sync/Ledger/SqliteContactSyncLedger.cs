using System.Globalization;
using Joinery.ServiceDefaults;
using Microsoft.Data.Sqlite;

namespace Joinery.CrmSync.Ledger;

public sealed class SqliteContactSyncLedger(SqliteDatabase database) : IContactSyncLedger
{
    const string Schema = """
        CREATE TABLE IF NOT EXISTS contact_syncs (
            signup_id      TEXT PRIMARY KEY,
            contact_id     TEXT NULL,
            created        INTEGER NOT NULL,
            failure_reason TEXT NULL,
            recorded_at    TEXT NOT NULL
        );
        """;

    readonly SemaphoreSlim _initializing = new(1, 1);
    volatile bool _initialized;

    public async Task Initialize(CancellationToken cancellationToken = default)
    {
        if (_initialized)
            return;
        await _initializing.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
                return;
            await database.Execute(Schema, cancellationToken);
            _initialized = true;
        }
        finally
        {
            _initializing.Release();
        }
    }

    public async Task<ContactSyncEntry?> Find(Guid signupId, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        return await Read(connection, signupId, cancellationToken);
    }

    public async Task<ContactSyncEntry> Record(ContactSyncEntry entry, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using (var insert = connection.CreateCommand())
        {
            // Two deliveries racing on two instances both reach the CRM; the first answer recorded is the one
            // both report, so the saga never sees "created" and "updated" for the same signup.
            insert.CommandText = """
                INSERT INTO contact_syncs (signup_id, contact_id, created, failure_reason, recorded_at)
                VALUES ($signup_id, $contact_id, $created, $failure_reason, $recorded_at)
                ON CONFLICT (signup_id) DO NOTHING;
                """;
            insert.Parameters.AddWithValue("$signup_id", Key(entry.SignupId));
            insert.Parameters.AddWithValue("$contact_id", (object?)entry.ContactId ?? DBNull.Value);
            insert.Parameters.AddWithValue("$created", entry.Created ? 1 : 0);
            insert.Parameters.AddWithValue("$failure_reason", (object?)entry.FailureReason ?? DBNull.Value);
            insert.Parameters.AddWithValue("$recorded_at", entry.RecordedAt.ToString("O", CultureInfo.InvariantCulture));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return await Read(connection, entry.SignupId, cancellationToken)
               ?? throw new InvalidOperationException($"The contact sync of signup {entry.SignupId} was not recorded.");
    }

    static async Task<ContactSyncEntry?> Read(SqliteConnection connection, Guid signupId, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.CommandText = """
            SELECT contact_id, created, failure_reason, recorded_at
            FROM contact_syncs WHERE signup_id = $signup_id;
            """;
        select.Parameters.AddWithValue("$signup_id", Key(signupId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return new ContactSyncEntry(
            signupId,
            reader.IsDBNull(0) ? null : reader.GetString(0),
            reader.GetInt64(1) != 0,
            reader.IsDBNull(2) ? null : reader.GetString(2),
            DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
    }

    static string Key(Guid signupId) => signupId.ToString("D");
}
