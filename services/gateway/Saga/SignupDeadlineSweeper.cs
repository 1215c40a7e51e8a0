using Joinery.Contracts;
using Joinery.Gateway.SagaRepository;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Every <see cref="SignupDeadlines.SweepInterval"/>, finds the signups past their deadline in a waiting state and
/// publishes <see cref="SignupTimedOut"/> for each; the saga fails and compensates them. Safe with several gateways
/// and across restarts: the event is idempotent (ignored once the signup is final), and a signup the saga has not
/// handled yet is published again only after a few intervals.
/// </summary>
public sealed class SignupDeadlineSweeper(ISagaStore<SignupState> sagas, IBus bus, SignupDeadlines deadlines, TimeProvider clock,
    ILogger<SignupDeadlineSweeper> logger) : BackgroundService
{
    /// <summary>At most this many signups are timed out per sweep; the next sweep takes the rest.</summary>
    public const int BatchSize = 200;

    readonly Dictionary<Guid, DateTimeOffset> _published = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(deadlines.SweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await Sweep(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Deadline sweep failed; will try again");
            }
        }
    }

    /// <summary>One sweep: publishes a timeout for each overdue signup; returns how many it published.</summary>
    public async Task<int> Sweep(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var overdue = await sagas.Query(SignupDeadlines.Overdue(now), cancellationToken);
        // Forget what was published long enough ago that the saga should have handled it: publish those again.
        var republishAfter = deadlines.SweepInterval * 5 < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : deadlines.SweepInterval * 5;
        foreach (var id in _published.Where(p => now - p.Value > republishAfter).Select(p => p.Key).ToList())
            _published.Remove(id);

        var count = 0;
        foreach (var saga in overdue.OrderBy(s => s.Deadline).Take(BatchSize))
        {
            if (_published.ContainsKey(saga.CorrelationId))
                continue;
            var step = SignupDeadlines.WaitingStep(saga);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await bus.Publish(new SignupTimedOut(saga.CorrelationId, step, saga.Deadline!.Value), timeout.Token);
            _published[saga.CorrelationId] = now;
            count++;
            logger.LogWarning("Signup {SignupId} passed its deadline ({Deadline:O}) waiting for {Step}: timing it out",
                saga.CorrelationId, saga.Deadline, step);
        }
        return count;
    }
}
