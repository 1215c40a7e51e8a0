using MassTransit;
using Microsoft.Extensions.Logging;

namespace Joinery.ServiceDefaults.Retry;

/// <summary>
/// Runs one consumer's work with retries: short waits in-process (a timer, no thread), longer ones through
/// <see cref="IRetryWaiter"/> (RabbitMQ wait queues; in memory on the in-memory transport) so that the consumer slot is
/// freed and the wait survives a restart. Past the policy's deadline it gives up and lets the consumer say so.
/// </summary>
public sealed class RetryRunner(IRetryWaiter waiter, TimeProvider clock, ILogger<RetryRunner> logger)
{
    public enum Outcome { Done, Deferred, GaveUp }

    /// <param name="work">The attempt; throws <see cref="RetryLaterException"/> for whatever is worth retrying.</param>
    /// <param name="giveUp">Called once the deadline has passed, with the last transient failure.</param>
    public Task<Outcome> Run<T>(ConsumeContext<T> context, RetryPolicy policy, Func<CancellationToken, Task> work,
        Func<RetryLaterException, Task> giveUp) where T : class =>
        Run(context, policy, (_, cancellationToken) => work(cancellationToken), (failure, _) => giveUp(failure));

    /// <param name="work">The attempt, given its number (<see cref="StepAttempts"/>: 1 is the first try).</param>
    /// <param name="giveUp">Called once the deadline has passed, with the last transient failure and the attempts made.</param>
    public async Task<Outcome> Run<T>(ConsumeContext<T> context, RetryPolicy policy, Func<int, CancellationToken, Task> work,
        Func<RetryLaterException, int, Task> giveUp) where T : class
    {
        var state = RetryState.From(context.Headers, clock.GetUtcNow());
        while (true)
        {
            RetryLaterException failure;
            try
            {
                // A slot the message reserved before it went to wait is used once, by the limiter that reserved it.
                using (ReservedPermit.Hold(state.SlotLimiter, state.Slot))
                    await work(StepAttempts.Count(context, state.Attempts), context.CancellationToken);
                return Outcome.Done;
            }
            catch (RetryLaterException ex) when (!context.CancellationToken.IsCancellationRequested)
            {
                failure = ex;
            }
            state = state with { SlotLimiter = null, Slot = null };

            TimeSpan delay;
            if (failure.CountsAsAttempt)
            {
                state = state with { Attempts = state.Attempts + 1 };
                delay = policy.Delay(state.Attempts, failure.RetryAfter, Random.Shared);
                if (clock.GetUtcNow() + delay > state.Deadline(policy))
                {
                    logger.LogWarning("Giving up on {MessageType} after {Attempts} attempts since {FirstAttempt:O}: {Failure}",
                        typeof(T).Name, state.Attempts, state.FirstAttemptAt, failure.Message);
                    // The attempt that just failed is already in state.Attempts.
                    await giveUp(failure, StepAttempts.Count(context, state.Attempts - 1));
                    return Outcome.GaveUp;
                }
            }
            else
            {
                // Our own limiter said "later": wait exactly that long, and do not let it eat into the deadline.
                delay = failure.RetryAfter ?? policy.InitialDelay;
                state = state with { Throttled = state.Throttled + delay };
                if (failure is ThrottledException throttled)
                    state = state with { SlotLimiter = throttled.Limiter, Slot = throttled.Slot };
            }

            if (delay <= policy.InProcessMaxDelay)
            {
                await Task.Delay(delay, clock, context.CancellationToken);
                continue;
            }

            logger.LogInformation("{MessageType} waits {Delay} before attempt {Attempt}: {Failure}",
                typeof(T).Name, delay, state.Attempts + 1, failure.Message);
            await waiter.Wait(context, delay, state);
            return Outcome.Deferred;
        }
    }
}

/// <summary>Brings a message back to its queue after a delay, with its <see cref="RetryState"/> in the headers.</summary>
public interface IRetryWaiter
{
    Task Wait<T>(ConsumeContext<T> context, TimeSpan delay, RetryState state) where T : class;
}
