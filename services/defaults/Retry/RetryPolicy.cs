namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// Exponential backoff with jitter, bounded by a deadline. Bound per API, e.g. section <c>Slack:Retry</c> or
/// <c>ActiveCampaign:Retry</c> (keys <c>InitialDelay</c>, <c>MaxDelay</c>, <c>Deadline</c>, <c>InProcessMaxDelay</c>).
/// </summary>
public sealed class RetryPolicy
{
    /// <summary>The first backoff (before jitter); each further failure doubles it up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after the first attempt a transient failure is still retried; past it the step fails with
    /// <c>&lt;api&gt;:unavailable</c>. Time spent waiting for the client's own rate limiter does not count.
    /// </summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Waits up to this long are awaited in the consumer (a timer, no thread; it keeps the consumer slot); longer ones
    /// go through RabbitMQ wait queues and free the slot.
    /// </summary>
    public TimeSpan InProcessMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The wait before retry <paramref name="attempt"/> (1 = after the first failure): equal jitter, never below <paramref name="retryAfter"/>.</summary>
    public TimeSpan Delay(int attempt, TimeSpan? retryAfter, Random random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(2, exponent));
        // Equal jitter: half the backoff for sure, the other half at random, so retries of a burst spread out.
        var backoff = ceiling / 2 + random.NextDouble() * ceiling / 2;
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            // Honour Retry-After as a floor, and spread whoever was told the same instant over a further fifth of it.
            var honoured = after.TotalMilliseconds * (1 + random.NextDouble() * 0.2);
            backoff = Math.Max(backoff, honoured);
        }
        return TimeSpan.FromMilliseconds(backoff);
    }
}
