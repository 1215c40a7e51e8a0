using MassTransit;

namespace Joinery.CrmSync.Consumers;

/// <summary>
/// The only retry on the way to ActiveCampaign (the HTTP client has none, so retries never multiply). Permanent
/// refusals are not listed, so they fault at once.
/// </summary>
static class CrmRetry
{
    public static void Configure(IRetryConfigurator retry)
    {
        // About 0.5 s, 0.8 s, 1.4 s, 2.6 s, 5 s: rides out a short outage without holding a slot for long.
        retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300));
        retry.Handle<TransientApiException>();
        retry.Handle<HttpRequestException>();
        // What MassTransit makes of a timeout (TaskCanceledException) that escapes a consumer unwrapped.
        retry.Handle<ConsumerCanceledException>();
    }
}
