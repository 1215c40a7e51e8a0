using System.Globalization;
using Joinery.ServiceDefaults;

namespace Joinery.SlackInvite.InviteLink;

/// <summary>slack-invite's own SQLite file (<c>slack-invite.db</c>). SQLite serializes writers, so a reservation's check and insert are one step.</summary>
public sealed class SqliteInviteLinkLedger(SqliteDatabase database) : IInviteLinkLedger
{
    const string Schema = """
        CREATE TABLE IF NOT EXISTS invite_link_uses (
            signup_id   TEXT PRIMARY KEY,
            link_key    TEXT NOT NULL,
            reserved_at TEXT NOT NULL,
            sent_at     TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS invite_link_uses_by_link ON invite_link_uses (link_key);
        CREATE TABLE IF NOT EXISTS invite_link_warnings (
            link_key TEXT NOT NULL,
            kind     TEXT NOT NULL,
            day      TEXT NOT NULL,
            PRIMARY KEY (link_key, kind, day)
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

    public async Task<bool> WasSent(Guid signupId, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sent_at IS NOT NULL FROM invite_link_uses WHERE signup_id = $id;";
        command.Parameters.AddWithValue("$id", Key(signupId));
        return await command.ExecuteScalarAsync(cancellationToken) is long sent && sent != 0;
    }

    public async Task<int?> Reserve(Guid signupId, string linkKey, int? maxUses, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using (var insert = connection.CreateCommand())
        {
            // One statement: the count and the insert cannot be split by another writer.
            insert.CommandText = """
                INSERT INTO invite_link_uses (signup_id, link_key, reserved_at)
                SELECT $id, $link, $now
                WHERE $max IS NULL OR (SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link) < $max
                ON CONFLICT (signup_id) DO NOTHING;
                """;
            insert.Parameters.AddWithValue("$id", Key(signupId));
            insert.Parameters.AddWithValue("$link", linkKey);
            insert.Parameters.AddWithValue("$now", now.ToString("O", CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$max", (object?)maxUses ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var check = connection.CreateCommand();
        check.CommandText = """
            SELECT EXISTS (SELECT 1 FROM invite_link_uses WHERE signup_id = $id AND link_key = $link),
                   (SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link);
            """;
        check.Parameters.AddWithValue("$id", Key(signupId));
        check.Parameters.AddWithValue("$link", linkKey);
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) != 0 ? (int)reader.GetInt64(1) : null;
    }

    public async Task MarkSent(Guid signupId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE invite_link_uses SET sent_at = $now WHERE signup_id = $id AND sent_at IS NULL;";
        command.Parameters.AddWithValue("$id", Key(signupId));
        command.Parameters.AddWithValue("$now", now.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task Release(Guid signupId, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM invite_link_uses WHERE signup_id = $id AND sent_at IS NULL;";
        command.Parameters.AddWithValue("$id", Key(signupId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> Uses(string linkKey, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link;";
        command.Parameters.AddWithValue("$link", linkKey);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<bool> TryRecordWarning(string linkKey, string kind, DateOnly day, CancellationToken cancellationToken = default)
    {
        await Initialize(cancellationToken);
        await using var connection = await database.Open(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO invite_link_warnings (link_key, kind, day) VALUES ($link, $kind, $day) ON CONFLICT DO NOTHING;";
        command.Parameters.AddWithValue("$link", linkKey);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$day", day.ToString("O", CultureInfo.InvariantCulture));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    static string Key(Guid signupId) => signupId.ToString("D");
}
