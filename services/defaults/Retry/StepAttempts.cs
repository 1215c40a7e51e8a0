using MassTransit;

namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// How many times a step has been tried, for the <c>Attempts</c> of its outcome event. Three counters add up, because
/// each kind of retry is invisible to the others: MassTransit's message retry (the consumer runs again within one
/// delivery), its redelivery counter, and <see cref="RetryRunner"/>'s failed attempts, carried in
/// <see cref="RetryState.AttemptsHeader"/> because a wait through a TTL queue comes back as a brand-new delivery.
/// </summary>
public static class StepAttempts
{
    /// <param name="failedBefore">Failed attempts <see cref="RetryRunner"/> counted before this one.</param>
    public static int Count(ConsumeContext context, int failedBefore = 0) =>
        1 + Math.Max(0, failedBefore) + Math.Max(0, context.GetRetryAttempt()) + Math.Max(0, context.GetRedeliveryCount());
}
