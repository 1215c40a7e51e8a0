using Joinery.CrmSync.ActiveCampaign;
using Joinery.CrmSync.Consumers;
using Joinery.CrmSync.Ledger;
using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Health;
using Joinery.ServiceDefaults.Retry;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Refit;

namespace Joinery.CrmSync;

public static class CrmSyncServiceExtensions
{
    /// <summary>The name of the HttpClient behind <see cref="IActiveCampaignApi"/>, for tests and handler tweaks.</summary>
    public const string ActiveCampaignHttpClient = "Joinery.CrmSync.ActiveCampaign";

    /// <summary>
    /// crm-sync: the ActiveCampaign client (section <c>ActiveCampaign</c>), the ledger (MongoDB or <c>crm-sync.db</c>, by <c>Persistence:Provider</c>), and the
    /// consumers of <c>sync-contact</c> and <c>delete-contact</c>.
    /// </summary>
    public static IHostApplicationBuilder AddCrmSyncService(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<ActiveCampaignOptions>()
            .Bind(builder.Configuration.GetSection(ActiveCampaignOptions.Section));

        builder.Services.AddTransient<ActiveCampaignApiTokenHandler>();
        builder.Services
            .AddRefitGeneratedClient<IActiveCampaignApi>(RefitSettings.ForJsonContext(ActiveCampaignJsonContext.Default), ActiveCampaignHttpClient)
            .ConfigureHttpClient((services, client) =>
            {
                var options = services.GetRequiredService<IOptions<ActiveCampaignOptions>>().Value;
                // Left unset when not configured: the consumers then skip without calling.
                if (options.BaseUri is { } baseUri)
                    client.BaseAddress = baseUri;
                client.Timeout = options.Timeout;
            })
            .AddHttpMessageHandler<ActiveCampaignApiTokenHandler>()
            .RedactLoggedHeaders([ActiveCampaignApiTokenHandler.HeaderName]);
        builder.Services.AddSingleton<ActiveCampaignRateLimit>();
        builder.Services.AddTransient<ActiveCampaignClient>();
        builder.Services.AddDeferredRetry();

        // On MongoDB every replica shares the ledger; on SQLite it is the process's (or its host's) own file.
        builder.Services.AddSingleton<IContactSyncLedger>(builder.AddMongoDatabase("crm-sync") is { } mongo
            ? new MongoContactSyncLedger(mongo)
            : new SqliteContactSyncLedger(builder.AddSqliteDatabase("crm-sync")));
        builder.Services.AddHostedService<CrmSyncInitializer>();

        return builder.AddMessagingModule("crm-sync", bus =>
        {
            bus.AddConsumer<SyncContactConsumer, SyncContactConsumerDefinition>();
            bus.AddConsumer<DeleteContactConsumer, DeleteContactConsumerDefinition>();
        });
    }
}

/// <summary>Creates the ledger before the bus starts consuming (hosted services start in registration order).</summary>
sealed class CrmSyncInitializer(IContactSyncLedger ledger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => ledger.Initialize(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
