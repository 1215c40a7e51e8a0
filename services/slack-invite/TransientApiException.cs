namespace Joinery.SlackInvite;

/// <summary>
/// Slack could not answer now (rate limit, outage, timeout). Thrown so the consumer's message retry tries again;
/// nothing below the consumer retries, so retries are never stacked.
/// </summary>
public sealed class TransientApiException(string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>
    /// Wraps a transport failure. A timeout's cancellation is described, not chained: MassTransit turns any exception
    /// whose innermost cause is an <see cref="OperationCanceledException"/> into a ConsumerCanceledException, which
    /// its retry would not see as transient.
    /// </summary>
    public static TransientApiException From(string message, Exception cause) =>
        cause.GetBaseException() is OperationCanceledException
            ? new TransientApiException($"{message}: timed out")
            : new TransientApiException($"{message}: {cause.GetBaseException().Message}", cause);
}
