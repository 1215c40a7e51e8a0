using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;

namespace Joinery.ServiceDefaults;

public enum PersistenceProvider { Sqlite, MongoDb }

/// <summary>Which database a service uses: <c>Persistence:Provider</c>, SQLite unless it says MongoDb.</summary>
public static class PersistenceConfiguration
{
    public static PersistenceProvider Provider(IConfiguration configuration) =>
        Enum.TryParse<PersistenceProvider>(configuration["Persistence:Provider"], ignoreCase: true, out var provider)
            ? provider
            : PersistenceProvider.Sqlite;

    /// <summary>
    /// Registers the service's MongoDB database (when that is the provider) and a readiness check for it, and
    /// returns it so the module can build its adapters; null when the service runs on SQLite.
    /// </summary>
    public static IMongoDatabase? AddMongoDatabase(this IHostApplicationBuilder builder, string service)
    {
        if (Provider(builder.Configuration) != PersistenceProvider.MongoDb)
            return null;
        var database = MongoConnection.Open(builder.Configuration, service);
        builder.Services.AddHealthChecks().AddCheck($"mongodb-{service}", new MongoHealthCheck(database), tags: [ServiceDefaultsExtensions.ReadyTag]);
        return database;
    }
}

public static class MongoConnection
{
    static int _registered;

    /// <summary>
    /// Guids are stored as BSON binary subtype 4 (the standard representation) everywhere: registered once per
    /// process, before any class map or collection is touched.
    /// </summary>
    public static void RegisterConventions()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            BsonSerializer.TryRegisterSerializer(new GuidSerializer(GuidRepresentation.Standard));
            BsonSerializer.TryRegisterSerializer(new DateTimeOffsetSerializer(BsonType.String));
        }
    }

    /// <summary>The connection string from <c>ConnectionStrings:MongoDb</c> or <c>MONGODB_URI</c>.</summary>
    public static string? ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("MongoDb") is { Length: > 0 } cs ? cs : configuration["MONGODB_URI"];

    public static IMongoDatabase Open(IConfiguration configuration, string service) =>
        Open(ConnectionString(configuration)
             ?? throw new InvalidOperationException(
                 "Persistence:Provider is MongoDb but neither ConnectionStrings:MongoDb nor MONGODB_URI is set."),
            configuration["Persistence:MongoDatabase"], service);

    public static IMongoDatabase Open(string connectionString, string? databaseName, string service)
    {
        RegisterConventions();
        var url = MongoUrl.Create(connectionString);
        var client = new MongoClient(Settings(url));
        return client.GetDatabase(databaseName ?? url.DatabaseName ?? "joinery-" + service);
    }

    /// <summary>
    /// Majority writes and retryable writes unless the URL says otherwise; a short server-selection timeout so a
    /// missing server fails readiness within seconds instead of hanging every request for the driver's 30 s default.
    /// </summary>
    public static MongoClientSettings Settings(MongoUrl url)
    {
        var settings = MongoClientSettings.FromUrl(url);
        if (url.W is null)
            settings.WriteConcern = WriteConcern.WMajority;
        settings.RetryWrites = url.RetryWrites ?? true;
        if (!url.ToString().Contains("serverSelectionTimeoutMS", StringComparison.OrdinalIgnoreCase))
            settings.ServerSelectionTimeout = TimeSpan.FromSeconds(5);
        return settings;
    }

    public static bool IsDuplicateKey(Exception exception) => exception switch
    {
        MongoWriteException write => write.WriteError?.Category == ServerErrorCategory.DuplicateKey,
        MongoCommandException command => command.Code == 11000,
        MongoBulkWriteException bulk => bulk.WriteErrors.Any(e => e.Category == ServerErrorCategory.DuplicateKey),
        _ => false,
    };
}

sealed class MongoHealthCheck(IMongoDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await database.RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"MongoDB at {database.Client.Settings.Server} is unreachable: {ex.GetType().Name}");
        }
    }
}
