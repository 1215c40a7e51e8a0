using Joinery.Gateway.Abuse;
using Joinery.Gateway.Admin;
using Joinery.Gateway.Api;
using Joinery.Gateway.Confirmation;
using Joinery.Gateway.ErrorQueues;
using Joinery.Gateway.Page;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Health;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Joinery.Gateway;

public static class GatewayServiceExtensions
{
    public static IHostApplicationBuilder AddGatewayService(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        ISagaStore<SignupState> sagas;
        if (builder.AddMongoDatabase("gateway") is { } mongo)
        {
            sagas = new MongoSagaStore<SignupState>(mongo);
            builder.Services.AddSingleton<ISignupLedger>(new MongoSignupLedger(mongo));
            builder.Services.AddSingleton<IAdminAuditLog>(new MongoAdminAuditLog(mongo));
        }
        else
        {
            var database = builder.AddSqliteDatabase("gateway"); // with its readiness check
            sagas = new SqliteSagaStore<SignupState>(database);
            builder.Services.AddSingleton<ISignupLedger>(new SqliteSignupLedger(database));
            builder.Services.AddSingleton<IAdminAuditLog>(new SqliteAdminAuditLog(database));
        }
        builder.Services.AddSingleton(sagas);
        builder.Services.AddHostedService<GatewayInitializer>();
        builder.Services.AddHostedService<SignupOutboxDispatcher>();
        // Deadlines: the saga stores them, the sweeper times out the signups that passed theirs (Saga/SignupDeadlines).
        builder.Services.AddSingleton(SignupDeadlines.From(builder.Configuration));
        // It also has the saga re-send a command lost with the broker: only for signups older than the last disruption.
        builder.Services.AddSingleton<BrokerDisruptions>();
        builder.Services.AddReceiveEndpointObserver(provider => provider.GetRequiredService<BrokerDisruptions>());
        builder.Services.AddSendObserver(provider => provider.GetRequiredService<BrokerDisruptions>());
        builder.Services.AddHostedService<SignupDeadlineSweeper>();
        builder.Services.AddSingleton<ErrorQueueBrowser>(); // the admin API over the consumers' _error queues
        // The pages (visitor and admin) with their texts, the public count, the admins' sign-in.
        builder.Services.AddSingleton(PageTexts.Load());
        builder.Services.AddSingleton<CompletedSignups>();
        builder.AddAdminAuthentication();
        builder.AddSignupRateLimiting(); // Abuse/: per IP and per email on POST /api/signups
        builder.AddSignupScreening(); // Abuse/: email domain lists and the optional CAPTCHA
        builder.AddAdminSignInLimit(); // Abuse/: repeated wrong admin sign-ins answered 429
        builder.AddEmailConfirmation(); // Confirmation/: double opt-in (Signup:ConfirmEmail), its mailer and check

        return builder.AddMessagingModule("gateway", bus =>
        {
            bus.AddSagaStateMachine<SignupStateMachine, SignupState, SignupStateDefinition>()
                .StoreRepository(sagas);
            bus.AddEmailConfirmationConsumers();
        });
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseSecurityHeaders(); // Abuse/: first, so that every response carries them, whatever answers it
        app.UseRateLimiter();
        app.UseAdminAuthentication(); // admin paths 404 while no admin is configured; then sign-in and the JoineryAdmin policy
        app.MapSignupPage();
        app.MapStats();
        app.MapAdmin();
        app.MapSignupApi();
        app.MapConfirmation(); // Confirmation/: the mailed link's page and POST /api/signups/{id}/confirm
        app.MapApprovalApi(); // Admin/ApprovalEndpoints: approve or reject a signup awaiting approval
        app.MapErrorQueueApi(); // ErrorQueues/: list the consumers' _error queues, send messages back once fixed
        return app;
    }
}

/// <summary>Creates the gateway's tables before the bus starts delivering to the saga.</summary>
sealed class GatewayInitializer(ISignupLedger ledger, ISagaStore<SignupState> sagas) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ledger.Initialize(cancellationToken);
        await sagas.Initialize(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
