using Joinery.Gateway.Api;
using Joinery.Gateway.Page;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
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
        }
        else
        {
            var database = SqliteDatabase.For(builder.Configuration, "gateway");
            sagas = new SqliteSagaStore<SignupState>(database);
            builder.Services.AddSingleton<ISignupLedger>(new SqliteSignupLedger(database));
        }
        builder.Services.AddSingleton(sagas);
        builder.Services.AddHostedService<GatewayInitializer>();

        return builder.AddMessagingModule("gateway", bus =>
            bus.AddSagaStateMachine<SignupStateMachine, SignupState, SignupStateDefinition>()
                .StoreRepository(sagas));
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapSignupPage();
        app.MapSignupApi();
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
