using Joinery.ServiceDefaults;

namespace Joinery.Gateway.Persistence;

/// <summary>
/// Writes the ledger's "published" marks in groups: the marks that arrive while one group is being written go into
/// the next, in one transaction. Under load one POST's mark then costs a statement instead of a transaction and a
/// turn at the file's write lock, which the saga and the next POSTs' <c>Accept</c> are waiting for.
/// </summary>
/// <remarks>
/// The guarantee is unchanged: the signup itself was recorded by <c>Accept</c> before anything was published, and
/// a caller of <see cref="Mark"/> still returns only once its mark is committed. A mark that is never written (the
/// process dies first) leaves the signup to the outbox dispatcher, which publishes it again; consumers dedupe.
/// </remarks>
sealed class PublishedMarks(SqliteDatabase database)
{
    // Bounds one transaction; the rest waits for the next group.
    const int MaxGroup = 512;

    readonly Lock _lock = new();
    List<(Guid SignupId, TaskCompletionSource Committed)> _waiting = [];
    bool _writing;

    public Task Mark(Guid signupId, CancellationToken cancellationToken)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startWriting;
        lock (_lock)
        {
            _waiting.Add((signupId, committed));
            startWriting = !_writing;
            _writing = true;
        }
        if (startWriting)
            _ = Task.Run(WriteWhileWaiting, CancellationToken.None);
        // A caller that gives up does not withdraw its mark: writing it anyway is harmless and saves a re-publish.
        return committed.Task.WaitAsync(cancellationToken);
    }

    async Task WriteWhileWaiting()
    {
        while (true)
        {
            List<(Guid SignupId, TaskCompletionSource Committed)> group;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                group = _waiting;
                _waiting = [];
                if (group.Count > MaxGroup)
                {
                    _waiting = group.GetRange(MaxGroup, group.Count - MaxGroup);
                    group.RemoveRange(MaxGroup, group.Count - MaxGroup);
                }
            }
            try
            {
                await Write(group);
                foreach (var (_, committed) in group)
                    committed.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var (_, committed) in group)
                    committed.TrySetException(ex);
            }
        }
    }

    async Task Write(List<(Guid SignupId, TaskCompletionSource Committed)> group)
    {
        await using var writer = await database.BeginWrite();
        await using var transaction = writer.Connection.BeginTransaction(deferred: false);
        await using var command = writer.Connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE accepted_signups SET published_at = $at WHERE signup_id = $id";
        command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
        var id = command.Parameters.AddWithValue("$id", "");
        foreach (var (signupId, _) in group)
        {
            id.Value = signupId.ToString();
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }
}
