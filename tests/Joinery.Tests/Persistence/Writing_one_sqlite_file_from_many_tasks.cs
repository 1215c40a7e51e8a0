using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Joinery.Tests.Persistence;

/// <summary>
/// The write gate of <see cref="SqliteDatabase.BeginWrite"/>: the writers of one file in one process take turns, so
/// none of them meets another on SQLite's lock.
/// </summary>
public sealed class Writing_one_sqlite_file_from_many_tasks : IDisposable
{
    const int Writers = 200;
    readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Should_let_every_writer_read_and_update_a_counter_without_losing_an_increment()
    {
        // Two instances for one path, as a host and a test (or two stores of one service) may create: one gate per file.
        var path = _directory.File("shared.db");
        var databases = new[] { new SqliteDatabase(path), new SqliteDatabase(path) };
        await databases[0].Execute("""
            CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO counter (id, value) VALUES (1, 0);
            CREATE TABLE writes (writer INTEGER PRIMARY KEY);
            """);

        // A deferred transaction reads, then writes. Two of them at once on the file fail with SQLITE_BUSY (the
        // second cannot upgrade a snapshot the first has changed), whatever the busy timeout: only turns avoid that.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            try
            {
                await using var turn = await databases[writer % 2].BeginWrite();
                await using var transaction = turn.Connection.BeginTransaction(deferred: true);
                await using var read = turn.Connection.Command("SELECT value FROM counter WHERE id = 1");
                read.Transaction = transaction;
                var value = (long)(await read.ExecuteScalarAsync())!;
                await Task.Yield(); // another task gets the chance to write in between, were there no gate
                await using var write = turn.Connection.Command(
                    "UPDATE counter SET value = $value WHERE id = 1; INSERT INTO writes (writer) VALUES ($writer);",
                    ("$value", value + 1), ("$writer", writer));
                write.Transaction = transaction;
                await write.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
                return null;
            }
            catch (SqliteException ex)
            {
                return ex;
            }
        })));

        Assert.Empty(outcomes.OfType<SqliteException>());
        await using var connection = await databases[1].Open();
        await using var counter = connection.Command("SELECT value FROM counter WHERE id = 1");
        Assert.Equal((long)Writers, await counter.ExecuteScalarAsync());
        await using var writes = connection.Command("SELECT COUNT(*) FROM writes");
        Assert.Equal((long)Writers, await writes.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Should_let_the_next_writer_in_after_one_that_failed()
    {
        var database = new SqliteDatabase(_directory.File("failing.db"));
        await database.Execute("CREATE TABLE rows (id INTEGER PRIMARY KEY);");

        await using (var failing = await database.BeginWrite())
        {
            await using var transaction = failing.Connection.BeginTransaction(deferred: false);
            await using var insert = failing.Connection.Command("INSERT INTO rows (id) VALUES (1); INSERT INTO rows (id) VALUES (1);");
            insert.Transaction = transaction;
            var ex = await Assert.ThrowsAsync<SqliteException>(() => insert.ExecuteNonQueryAsync());
            Assert.True(SqliteDatabase.IsUniqueViolation(ex));
            // Disposed without a commit: the transaction is rolled back and the gate released.
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using (var next = await database.BeginWrite(deadline.Token))
        {
            await using var insert = next.Connection.Command("INSERT INTO rows (id) VALUES (2);");
            await insert.ExecuteNonQueryAsync(deadline.Token);
        }

        await using var connection = await database.Open();
        await using var rows = connection.Command("SELECT group_concat(id) FROM rows");
        Assert.Equal("2", await rows.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Should_pass_the_turn_on_past_a_writer_that_gave_up_waiting()
    {
        var gate = new SqliteWriteGate();
        await gate.Enter();
        using var givesUp = new CancellationTokenSource();
        var impatient = gate.Enter(givesUp.Token);
        var patient = gate.Enter();
        Assert.False(impatient.IsCompleted);
        Assert.False(patient.IsCompleted);

        await givesUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        Assert.False(patient.IsCompleted); // the turn is still taken

        gate.Leave();
        await patient.WaitAsync(TimeSpan.FromSeconds(10));
        var next = gate.Enter();
        Assert.False(next.IsCompleted); // the patient writer holds the turn now
        gate.Leave();
        await next.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
