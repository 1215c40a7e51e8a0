using Joinery.ServiceDefaults;
using Joinery.Store.Persistence;
using Joinery.Tests.Support;

namespace Joinery.Tests.Store;

public sealed class Sqlite_signup_repository : SignupRepositoryContract
{
    readonly TempDirectory _directory = new();

    protected override Task<ISignupRepository> CreateRepository() =>
        Task.FromResult<ISignupRepository>(new SqliteSignupRepository(new SqliteDatabase(_directory.File("store.db"))));

    protected override Task DisposeRepository()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
