using Joinery.ServiceDefaults;
using MongoDB.Driver;

namespace Joinery.Tests.Support;

/// <summary>
/// The base of every port's contract suite: the facts are written once against <typeparamref name="TAdapter"/> and
/// each adapter's test class only names its storage (<see cref="SqliteStorage{TAdapter}"/> or
/// <see cref="MongoStorage{TAdapter}"/>). Where the storage's server is not available the adapter is null and every
/// fact skips.
/// </summary>
public abstract class AdapterContract<TAdapter>(AdapterStorage<TAdapter> storage) : IAsyncLifetime where TAdapter : class
{
    TAdapter? _adapter;

    /// <summary>The adapter under test; skips the calling fact where its server is not available.</summary>
    protected TAdapter Adapter => MongoTestDatabase.Require(_adapter);

    /// <summary>Creates the adapter's tables, collections or indexes, as the service does at start-up.</summary>
    protected abstract Task Initialize(TAdapter adapter);

    /// <summary>A second adapter over the same data, initialized: the service restarted.</summary>
    protected async Task<TAdapter> Reopen()
    {
        var adapter = MongoTestDatabase.Require(storage.Create());
        await Initialize(adapter);
        return adapter;
    }

    public async Task InitializeAsync()
    {
        _adapter = storage.Create();
        if (_adapter is not null)
            await Initialize(_adapter);
    }

    public async Task DisposeAsync() => await storage.DisposeAsync();
}

/// <summary>Where a contract suite's adapter keeps its data; each <see cref="Create"/> is a new adapter over the same data.</summary>
public abstract class AdapterStorage<TAdapter> : IAsyncDisposable where TAdapter : class
{
    /// <summary>Null where the storage's server is not available.</summary>
    public abstract TAdapter? Create();

    public abstract ValueTask DisposeAsync();
}

/// <summary>A SQLite file in a temporary folder of the suite's own, deleted afterwards.</summary>
public sealed class SqliteStorage<TAdapter>(string fileName, Func<SqliteDatabase, TAdapter> create) : AdapterStorage<TAdapter>
    where TAdapter : class
{
    readonly TempDirectory _directory = new();

    /// <summary>The database file, opened anew (as a restarted service would).</summary>
    public SqliteDatabase Open() => new(_directory.File(fileName));

    public override TAdapter Create() => create(Open());

    public override ValueTask DisposeAsync()
    {
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A throw-away MongoDB database, only where MONGODB_URI is set (see <see cref="MongoTestDatabase"/>).</summary>
public sealed class MongoStorage<TAdapter>(Func<IMongoDatabase, TAdapter> create) : AdapterStorage<TAdapter> where TAdapter : class
{
    readonly MongoTestDatabase? _mongo = MongoTestDatabase.CreateIfAvailable();

    /// <summary>Null where MONGODB_URI is not set.</summary>
    public IMongoDatabase? Database => _mongo?.Database;

    public override TAdapter? Create() => _mongo is null ? null : create(_mongo.Database);

    public override async ValueTask DisposeAsync()
    {
        if (_mongo is not null)
            await _mongo.DisposeAsync();
    }
}
