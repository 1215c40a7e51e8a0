using Microsoft.Data.Sqlite;

namespace Joinery.ServiceDefaults;

/// <summary>
/// The turn at writing one SQLite file in this process. Unlike a FIFO semaphore it never hands the turn to a waiter
/// that is not running yet: leaving frees it and wakes the longest waiter, and a writer already running may take it
/// first. On a busy machine a woken task can wait milliseconds for a thread and a core; a handed-over turn would sit
/// unused all that time, with every other writer queued behind it.
/// </summary>
public sealed class SqliteWriteGate
{
    readonly Lock _lock = new();
    readonly LinkedList<TaskCompletionSource> _waiting = new();
    bool _taken;

    public async Task Enter(CancellationToken cancellationToken = default)
    {
        var woken = false;
        while (true)
        {
            LinkedListNode<TaskCompletionSource> node;
            lock (_lock)
            {
                if (!_taken)
                {
                    _taken = true;
                    return;
                }
                // A waiter that was woken and beaten to the turn keeps its place at the front.
                var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                node = woken ? _waiting.AddFirst(wake) : _waiting.AddLast(wake);
            }
            try
            {
                await node.Value.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                lock (_lock)
                {
                    if (node.List is not null)
                        _waiting.Remove(node);
                    else
                        WakeOne(); // woken and giving up at once: the wake-up goes to the next waiter
                }
                throw;
            }
            woken = true;
        }
    }

    public void Leave()
    {
        lock (_lock)
        {
            _taken = false;
            WakeOne();
        }
    }

    void WakeOne()
    {
        if (_taken || _waiting.First is not { } first)
            return;
        _waiting.RemoveFirst();
        first.Value.TrySetResult();
    }
}

/// <summary>The connection of one turn at writing a file; disposing it closes the connection and lets the next writer in.</summary>
public sealed class SqliteWriter : IAsyncDisposable
{
    readonly SqliteWriteGate _gate;
    int _disposed;

    internal SqliteWriter(SqliteConnection connection, SqliteWriteGate gate)
    {
        Connection = connection;
        _gate = gate;
    }

    public SqliteConnection Connection { get; }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            // Closing rolls back a transaction left open, before the next writer comes in.
            await Connection.DisposeAsync();
        }
        finally
        {
            _gate.Leave();
        }
    }
}
