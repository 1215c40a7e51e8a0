using Joinery.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.ServiceDefaults;

/// <summary>
/// A service's share of the bus: its consumers, sagas and their definitions. Modules are collected so the same
/// service runs alone on RabbitMQ or beside the others on the in-memory transport of the standalone host.
/// </summary>
public sealed record MessagingModule(string Name, Action<IBusRegistrationConfigurator> Configure);

public static class MessagingExtensions
{
    public static IHostApplicationBuilder AddMessagingModule(this IHostApplicationBuilder builder, string name,
        Action<IBusRegistrationConfigurator> configure)
    {
        builder.Services.AddSingleton(new MessagingModule(name, configure));
        return builder;
    }

    public static IReadOnlyList<MessagingModule> MessagingModules(this IServiceCollection services) =>
        services.Where(d => d.ServiceType == typeof(MessagingModule) && d.ImplementationInstance is MessagingModule)
            .Select(d => (MessagingModule)d.ImplementationInstance!)
            .ToList();

    /// <summary>Adds MassTransit with every registered module, on the transport that configuration names.</summary>
    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder)
    {
        var options = MessagingOptions.From(builder.Configuration);
        var modules = builder.Services.MessagingModules();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            foreach (var module in modules)
                module.Configure(bus);

            // Messaging:QuorumQueues: every receive endpoint's queue becomes a quorum queue (replicated across the
            // cluster). Only through the configure-endpoints callback, so the bus's temporary queue stays classic.
            // An existing classic queue cannot be turned into a quorum queue in place: delete it first.
            if (options.Transport == MessagingTransport.RabbitMq && options.QuorumQueues)
                bus.AddConfigureEndpointsCallback((_, endpoint) =>
                {
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                        rabbit.SetQuorumQueue();
                });

            if (options.Transport == MessagingTransport.InMemory)
                bus.UsingInMemory((context, cfg) =>
                {
                    cfg.UseSignupTelemetry(context); // span tags and step metrics on every consumer and saga
                    cfg.ConfigureEndpoints(context);
                });
            else
                bus.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(options.RabbitMqUri);
                    cfg.UseSignupTelemetry(context); // span tags and step metrics on every consumer and saga
                    cfg.ConfigureEndpoints(context);
                });
        });

        // Start-up waits for the bus, so a ready service has declared its queues before anyone publishes to them.
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }
}

public enum MessagingTransport { RabbitMq, InMemory }

public sealed record MessagingOptions(MessagingTransport Transport, Uri RabbitMqUri)
{
    /// <summary><c>Messaging:QuorumQueues</c> (default false): declare receive endpoints as quorum queues on RabbitMQ.</summary>
    public bool QuorumQueues { get; init; }

    public static MessagingOptions From(IConfiguration configuration)
    {
        var transport = Enum.TryParse<MessagingTransport>(configuration["Messaging:Transport"], ignoreCase: true, out var t)
            ? t
            : MessagingTransport.RabbitMq;
        var uri = configuration.GetConnectionString("RabbitMq") ?? "amqp://guest:guest@127.0.0.1:5672/";
        return new MessagingOptions(transport, new Uri(uri))
        {
            QuorumQueues = bool.TryParse(configuration["Messaging:QuorumQueues"], out var quorum) && quorum,
        };
    }
}
