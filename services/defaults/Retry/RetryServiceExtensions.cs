using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Joinery.ServiceDefaults.Retry;

public static class RetryServiceExtensions
{
    /// <summary>
    /// <see cref="RetryRunner"/> and its waiters (RabbitMQ wait queues, or in memory on the in-memory transport). Safe to
    /// call from several modules of one host.
    /// </summary>
    public static IServiceCollection AddDeferredRetry(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RabbitMqQueueDeclarer>();
        services.TryAddSingleton<RabbitMqWaitQueues>();
        services.TryAddSingleton<InMemoryRetryWaiter>();
        services.TryAddSingleton<IRetryWaiter, TransportRetryWaiter>();
        services.TryAddSingleton<RetryRunner>();
        return services;
    }
}
