using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Health;
using Joinery.Store.Consumers;
using Joinery.Store.Persistence;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Joinery.Store;

public static class StoreServiceExtensions
{
    public static IHostApplicationBuilder AddStoreService(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ISignupRepository>(builder.AddMongoDatabase("store") is { } mongo
            ? new MongoSignupRepository(mongo)
            : new SqliteSignupRepository(builder.AddSqliteDatabase("store")));
        builder.Services.AddHostedService<StoreInitializer>();

        return builder.AddMessagingModule("store", bus =>
        {
            bus.AddConsumer<StoreSignupConsumer, StoreSignupConsumerDefinition>();
            bus.AddConsumer<MarkSignupFailedConsumer, MarkSignupFailedConsumerDefinition>();
            bus.AddConsumer<ErasePersonConsumer, ErasePersonConsumerDefinition>();
        });
    }
}

/// <summary>Creates the schema before the bus starts consuming (hosted services start in registration order).</summary>
sealed class StoreInitializer(ISignupRepository signups) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => signups.Initialize(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
