using MassTransit;

namespace Joinery.CrmSync.Consumers;

/// <summary>
/// Transient API trouble is retried inside the consumers (RetryRunner: backoff with jitter, Retry-After, wait queues,
/// deadline). This message retry covers the rest (a busy database, a wait queue that could not be declared, a broker
/// hiccup on publish); refusals (<see cref="PermanentApiException"/>) fault at once.
/// </summary>
static class CrmRetry
{
    public static void Configure(IRetryConfigurator retry)
    {
        retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300));
        retry.Ignore<PermanentApiException>();
    }
}
