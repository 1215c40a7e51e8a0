using System.Globalization;
using Joinery.ServiceDefaults;
using Microsoft.Data.Sqlite;

namespace Joinery.CrmSync.Ledger;

public sealed class SqliteContactSyncLedger(SqliteDatabase database) : IContactSyncLedger
{
    readonly SqliteSchema _schema = new(database, """
        CREATE TABLE IF NOT EXISTS contact_syncs (
            signup_id      TEXT PRIMARY KEY,
            contact_id     TEXT NULL,
            created        INTEGER NOT NULL,
            failure_reason TEXT NULL,
            recorded_at    TEXT NOT NULL
        );
        """);

    public Task Initialize(CancellationToken cancellationToken = default) => _schema.Ensure(cancellationToken);

    public async Task<ContactSyncEntry?> Find(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _schema.Open(cancellationToken);
        return await Read(connection, signupId, cancellationToken);
    }

    public async Task<ContactSyncEntry> Record(ContactSyncEntry entry, CancellationToken cancellationToken = default)
    {
        await using var writer = await _schema.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        // Two deliveries racing on two instances both reach the CRM; the first answer recorded is the one
        // both report, so the saga never sees "created" and "updated" for the same signup.
        await using (var insert = connection.Command("""
                         INSERT INTO contact_syncs (signup_id, contact_id, created, failure_reason, recorded_at)
                         VALUES ($signup_id, $contact_id, $created, $failure_reason, $recorded_at)
                         ON CONFLICT (signup_id) DO NOTHING;
                         """,
                         ("$signup_id", Key(entry.SignupId)), ("$contact_id", entry.ContactId), ("$created", entry.Created ? 1 : 0),
                         ("$failure_reason", entry.FailureReason), ("$recorded_at", entry.RecordedAt.ToString("O", CultureInfo.InvariantCulture))))
            await insert.ExecuteNonQueryAsync(cancellationToken);
        return await Read(connection, entry.SignupId, cancellationToken)
               ?? throw new InvalidOperationException($"The contact sync of signup {entry.SignupId} was not recorded.");
    }

    static async Task<ContactSyncEntry?> Read(SqliteConnection connection, Guid signupId, CancellationToken cancellationToken)
    {
        await using var select = connection.Command("""
            SELECT contact_id, created, failure_reason, recorded_at
            FROM contact_syncs WHERE signup_id = $signup_id;
            """, ("$signup_id", Key(signupId)));
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
