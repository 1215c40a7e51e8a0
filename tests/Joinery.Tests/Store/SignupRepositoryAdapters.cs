using Joinery.Store.Persistence;
using Joinery.Tests.Support;

namespace Joinery.Tests.Store;

public sealed class Sqlite_signup_repository()
    : SignupRepositoryContract(new SqliteStorage<ISignupRepository>("store.db", db => new SqliteSignupRepository(db)));

public sealed class Mongo_signup_repository()
    : SignupRepositoryContract(new MongoStorage<ISignupRepository>(db => new MongoSignupRepository(db)));
