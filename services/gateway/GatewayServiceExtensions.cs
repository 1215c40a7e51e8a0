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
        var database = SqliteDatabase.For(builder.Configuration, "gateway");
        var sagaStore = new SqliteSagaStore<SignupState>(database);
        builder.Services.AddSingleton(sagaStore);
        builder.Services.AddSingleton<ISignupLedger>(new SqliteSignupLedger(database));
        builder.Services.AddHostedService<GatewayInitializer>();

        return builder.AddMessagingModule("gateway", bus =>
            bus.AddSagaStateMachine<SignupStateMachine, SignupState, SignupStateDefinition>()
                .SqliteRepository(database));
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapSignupPage();
        app.MapSignupApi();
        return app;
    }
}

/// <summary>Creates the gateway's tables before the bus starts delivering to the saga.</summary>
sealed class GatewayInitializer(ISignupLedger ledger, SqliteSagaStore<SignupState> sagas) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ledger.Initialize(cancellationToken);
        await sagas.Initialize();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
