using Joinery.ServiceDefaults;
using Joinery.Store.Persistence;
using Joinery.Tests.Support;

namespace Joinery.Tests.Store;

public sealed class Sqlite_signup_repository : SignupRepositoryContract
{
    readonly TempDirectory _directory = new();

    protected override Task<ISignupRepository?> CreateRepository() =>
        Task.FromResult<ISignupRepository?>(new SqliteSignupRepository(new SqliteDatabase(_directory.File("store.db"))));

    protected override Task DisposeRepository()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class Mongo_signup_repository : SignupRepositoryContract
{
    readonly MongoTestDatabase? _mongo = MongoTestDatabase.CreateIfAvailable();

    protected override Task<ISignupRepository?> CreateRepository() =>
        Task.FromResult<ISignupRepository?>(_mongo is null ? null : new MongoSignupRepository(_mongo.Database));

    protected override async Task DisposeRepository()
    {
        if (_mongo is not null)
            await _mongo.DisposeAsync();
    }
}
