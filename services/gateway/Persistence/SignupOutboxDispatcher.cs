using Joinery.Contracts;
using Joinery.Gateway.Confirmation;
using MassTransit;

namespace Joinery.Gateway.Persistence;

/// <summary>
/// Publishes accepted signups whose message did not reach the broker when the visitor posted them (the broker was
/// down or slow). Together with the ledger this is the gateway's outbox: a 202 means the signup is on disk and
/// will be published, at least once, when the broker is back. Consumers are idempotent, so a message published
/// both by the request and by this loop (a crash between the two writes) does no harm.
/// </summary>
public sealed class SignupOutboxDispatcher(ISignupLedger ledger, IBus bus, SignupAnnouncement announcement, TimeProvider clock,
    ILogger<SignupOutboxDispatcher> logger)
    : BackgroundService
{
    /// <summary>How long the request itself may try to publish before leaving the signup to this loop.</summary>
    public static readonly TimeSpan RequestPublishTimeout = TimeSpan.FromSeconds(2);

    // Younger entries may still be being published by their own request.
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await DispatchWaiting(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Outbox dispatch failed; will try again");
            }
        }
    }

    public async Task<int> DispatchWaiting(CancellationToken cancellationToken)
    {
        var waiting = await ledger.Unpublished(clock.GetUtcNow() - Grace, 100, cancellationToken);
        foreach (var message in waiting)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await bus.Publish(announcement.For(message), timeout.Token);
            await ledger.MarkPublished(message.SignupId, cancellationToken);
        }
        if (waiting.Count > 0)
            logger.LogInformation("Outbox published {Count} signup(s) that were waiting for the broker", waiting.Count);
        return waiting.Count;
    }

    /// <summary>The request's own attempt: true when the broker took the message, false when it is left to the loop.</summary>
    public static async Task<bool> TryPublish(IPublishEndpoint publisher, ISignupLedger ledger, SignupAnnouncement announcement,
        SignupRequested message, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestPublishTimeout);
        try
        {
            await publisher.Publish(announcement.For(message), timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Signup {SignupId} is recorded but not yet published; the outbox will publish it", message.SignupId);
            return false;
        }
        await ledger.MarkPublished(message.SignupId, CancellationToken.None);
        return true;
    }
}
