using Joinery.ServiceDefaults;
using MongoDB.Driver;

namespace Joinery.Tests.Support;

/// <summary>
/// A throw-away database on the server named by MONGODB_URI. No MongoDB server can be installed on our own
/// machines, so MongoDB tests are skipped (and counted as skipped) where the variable is not set.
/// </summary>
public sealed class MongoTestDatabase : IAsyncDisposable
{
    public const string Variable = "MONGODB_URI";

    MongoTestDatabase(IMongoDatabase database) => Database = database;

    public IMongoDatabase Database { get; }

    public static string? Uri => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } uri ? uri : null;

    public static MongoTestDatabase? CreateIfAvailable() =>
        Uri is { } uri ? new MongoTestDatabase(MongoConnection.Open(uri, $"joinery-tests-{Guid.NewGuid():N}", "tests")) : null;

    /// <summary>Skips the calling test when no server is configured.</summary>
    public static T Require<T>(T? value) where T : class
    {
        Skip.If(value is null, $"{Variable} is not set: MongoDB tests run only where a server is available.");
        return value!;
    }

    public async ValueTask DisposeAsync() => await Database.Client.DropDatabaseAsync(Database.DatabaseNamespace.DatabaseName);
}
