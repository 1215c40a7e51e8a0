using Joinery.Contracts;
using Joinery.Gateway.SagaRepository;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Every <see cref="SignupDeadlines.SweepInterval"/>, finds the signups past their deadline in a waiting state and
/// publishes <see cref="SignupTimedOut"/> for each; the saga fails and compensates them. It also finds the signups
/// waiting on a command the saga sent with no change for <see cref="SignupDeadlines.ResendAfter"/>, and since before
/// the last <see cref="BrokerDisruptions">disruption</see>, and publishes <see cref="SignupStalled"/>: the saga sends
/// that command again (one lost as the broker went down would otherwise only end at the deadline). Safe with several
/// gateways and across restarts: both events are idempotent (ignored once the signup is final or changed), and a
/// signup the saga has not handled yet is published again only later.
/// </summary>
public sealed class SignupDeadlineSweeper(ISagaStore<SignupState> sagas, IBus bus, SignupDeadlines deadlines, BrokerDisruptions disruptions,
    TimeProvider clock, ILogger<SignupDeadlineSweeper> logger) : BackgroundService
{
    /// <summary>At most this many signups are timed out per sweep; the next sweep takes the rest.</summary>
    public const int BatchSize = 200;

    readonly Dictionary<Guid, DateTimeOffset> _published = [];
    readonly Dictionary<Guid, DateTimeOffset> _nudged = [];

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

    /// <summary>One sweep: times out the overdue signups, then nudges the stalled ones that are not overdue.</summary>
    public async Task<SweepResult> Sweep(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var overdue = await sagas.Query(SignupDeadlines.Overdue(now), cancellationToken);
        var timedOut = await TimeOut(overdue, now, cancellationToken);
        // An overdue signup fails and compensates on its timeout: nudging it too would only send its commands twice.
        var stalled = await sagas.Query(SignupDeadlines.Stalled(now, deadlines.ResendAfter, disruptions.Last), cancellationToken);
        var overdueIds = overdue.Select(s => s.CorrelationId).ToHashSet();
        var nudged = await Nudge(stalled.Where(s => !overdueIds.Contains(s.CorrelationId)), now, cancellationToken);
        return new SweepResult(timedOut, nudged);
    }

    async Task<int> TimeOut(IEnumerable<SignupState> overdue, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Forget what was published long enough ago that the saga should have handled it: publish those again.
        var republishAfter = deadlines.SweepInterval * 5 < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : deadlines.SweepInterval * 5;
        Forget(_published, now, republishAfter);

        var count = 0;
        foreach (var saga in overdue.OrderBy(s => s.Deadline).Take(BatchSize))
        {
            if (_published.ContainsKey(saga.CorrelationId))
                continue;
            var step = SignupDeadlines.WaitingStep(saga);
            await Publish(new SignupTimedOut(saga.CorrelationId, step, saga.Deadline!.Value), cancellationToken);
            _published[saga.CorrelationId] = now;
            count++;
            logger.LogWarning("Signup {SignupId} passed its deadline ({Deadline:O}) waiting for {Step}: timing it out",
                saga.CorrelationId, saga.Deadline, step);
        }
        return count;
    }

    /// <summary>
    /// Asks the saga to send again the command a stalled signup waits on. The saga touches the signup when it does, so
    /// the next nudge comes one <see cref="SignupDeadlines.ResendAfter"/> later; one the saga has not handled yet is
    /// not published again before that either.
    /// </summary>
    async Task<int> Nudge(IEnumerable<SignupState> stalled, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Forget(_nudged, now, deadlines.ResendAfter);

        var count = 0;
        foreach (var saga in stalled.OrderBy(s => s.UpdatedAt).Take(BatchSize))
        {
            if (_nudged.ContainsKey(saga.CorrelationId))
                continue;
            await Publish(new SignupStalled(saga.CorrelationId, saga.UpdatedAt), cancellationToken);
            _nudged[saga.CorrelationId] = now;
            count++;
            logger.LogWarning("Signup {SignupId} in {State} unchanged since {UpdatedAt:O} (slack {Slack}, crm {Crm}, store {Store}): sending its pending command again",
                saga.CorrelationId, saga.CurrentState, saga.UpdatedAt, saga.SlackStatus, saga.CrmStatus, saga.StoreStatus);
        }
        return count;
    }

    async Task Publish<T>(T message, CancellationToken cancellationToken) where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await bus.Publish(message, timeout.Token);
    }

    static void Forget(Dictionary<Guid, DateTimeOffset> published, DateTimeOffset now, TimeSpan after)
    {
        foreach (var id in published.Where(p => now - p.Value >= after).Select(p => p.Key).ToList())
            published.Remove(id);
    }
}

/// <summary>What one sweep published: timeouts of overdue signups, nudges of stalled ones.</summary>
public readonly record struct SweepResult(int TimedOut, int Nudged);
