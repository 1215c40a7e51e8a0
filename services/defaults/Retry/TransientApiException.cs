namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// An outside API (the CRM, Slack, an SMTP server) could not answer now: timeout, 5xx, 408, 429, no connection. The
/// consumer's <see cref="RetryRunner"/> tries again after a backoff, never before <see cref="RetryLaterException.RetryAfter"/>;
/// nothing below the consumer retries, so retries are never stacked.
/// </summary>
public sealed class TransientApiException(string message, Exception? innerException = null, TimeSpan? retryAfter = null)
    : RetryLaterException(message, retryAfter, innerException)
{
    /// <summary>
    /// Wraps a transport failure. A timeout's cancellation is described, not chained: MassTransit turns any exception
    /// whose innermost cause is an <see cref="OperationCanceledException"/> into a ConsumerCanceledException.
    /// </summary>
    public static TransientApiException From(string message, Exception cause) =>
        cause.GetBaseException() is OperationCanceledException
            ? new TransientApiException($"{message}: timed out")
            : new TransientApiException($"{message}: {cause.GetBaseException().Message}", cause);
}
