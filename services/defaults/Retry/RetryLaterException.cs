namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// An external API could not answer now (timeout, 5xx, 429, "ratelimited"...). <see cref="RetryRunner"/> tries again
/// after a backoff, never sooner than <see cref="RetryAfter"/> when the API named one.
/// </summary>
public class RetryLaterException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The API's <c>Retry-After</c>, or the client-side limiter's estimate; null when neither said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>
    /// False for a wait the client imposed on itself (its rate limiter is busy): no attempt was made, so it neither
    /// counts as a failed attempt nor uses up the deadline.
    /// </summary>
    public virtual bool CountsAsAttempt => true;
}

/// <summary>
/// The client-side rate limiter has no permit within the in-process wait bound: come back after
/// <see cref="RetryLaterException.RetryAfter"/>, when <see cref="Slot"/> (reserved for this caller) is due.
/// </summary>
public sealed class ThrottledException(string limiter, TimeSpan retryAfter, DateTimeOffset slot)
    : RetryLaterException($"{limiter}: client-side rate limit, next permit in about {retryAfter.TotalSeconds:0.#}s", retryAfter)
{
    public string Limiter { get; } = limiter;
    public DateTimeOffset Slot { get; } = slot;
    public override bool CountsAsAttempt => false;
}
