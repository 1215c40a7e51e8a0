using System.Globalization;
using Joinery.ServiceDefaults;

namespace Joinery.SlackInvite.InviteLink;

/// <summary>slack-invite's own SQLite file (<c>slack-invite.db</c>). SQLite serializes writers, so a reservation's check and insert are one step.</summary>
public sealed class SqliteInviteLinkLedger(SqliteDatabase database) : IInviteLinkLedger
{
    readonly SqliteSchema _schema = new(database, """
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
        """);

    public Task Initialize(CancellationToken cancellationToken = default) => _schema.Ensure(cancellationToken);

    public async Task<bool> WasSent(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _schema.Open(cancellationToken);
        await using var command = connection.Command("SELECT sent_at IS NOT NULL FROM invite_link_uses WHERE signup_id = $id;", ("$id", Key(signupId)));
        return await command.ExecuteScalarAsync(cancellationToken) is long sent && sent != 0;
    }

    public async Task<int?> Reserve(Guid signupId, string linkKey, int? maxUses, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var writer = await _schema.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        // One statement: the count and the insert cannot be split by another writer.
        await using (var insert = connection.Command("""
                         INSERT INTO invite_link_uses (signup_id, link_key, reserved_at)
                         SELECT $id, $link, $now
                         WHERE $max IS NULL OR (SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link) < $max
                         ON CONFLICT (signup_id) DO NOTHING;
                         """,
                         ("$id", Key(signupId)), ("$link", linkKey), ("$now", Timestamp(now)), ("$max", maxUses)))
            await insert.ExecuteNonQueryAsync(cancellationToken);
        await using var check = connection.Command("""
            SELECT EXISTS (SELECT 1 FROM invite_link_uses WHERE signup_id = $id AND link_key = $link),
                   (SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link);
            """, ("$id", Key(signupId)), ("$link", linkKey));
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) != 0 ? (int)reader.GetInt64(1) : null;
    }

    public async Task MarkSent(Guid signupId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var writer = await _schema.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.Command("UPDATE invite_link_uses SET sent_at = $now WHERE signup_id = $id AND sent_at IS NULL;",
            ("$id", Key(signupId)), ("$now", Timestamp(now)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task Release(Guid signupId, CancellationToken cancellationToken = default)
    {
        await using var writer = await _schema.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.Command("DELETE FROM invite_link_uses WHERE signup_id = $id AND sent_at IS NULL;", ("$id", Key(signupId)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> Uses(string linkKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await _schema.Open(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM invite_link_uses WHERE link_key = $link;", ("$link", linkKey));
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<bool> TryRecordWarning(string linkKey, string kind, DateOnly day, CancellationToken cancellationToken = default)
    {
        await using var writer = await _schema.BeginWrite(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.Command(
            "INSERT INTO invite_link_warnings (link_key, kind, day) VALUES ($link, $kind, $day) ON CONFLICT DO NOTHING;",
            ("$link", linkKey), ("$kind", kind), ("$day", day.ToString("O", CultureInfo.InvariantCulture)));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    static string Key(Guid signupId) => signupId.ToString("D");

    static string Timestamp(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);
}
