using Joinery.Contracts;
using Joinery.CrmSync.ActiveCampaign;
using Joinery.CrmSync.Ledger;
using Joinery.ServiceDefaults.Retry;
using Joinery.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Joinery.CrmSync.Consumers;

/// <summary>
/// Creates or updates the contact, subscribes it to the configured list and adds the configured tags. The ledger keeps
/// the sync's answer (a redelivery must still say "created"); the list and tag calls are idempotent and simply run
/// again. A refusal of either undoes the contact this signup created before reporting the failure, so the saga never
/// has to compensate a step it was told failed. Transient trouble is retried by <see cref="RetryRunner"/>; past the
/// deadline the step fails with <c>activecampaign:unavailable</c>.
/// </summary>
public sealed class SyncContactConsumer(
    ActiveCampaignClient crm,
    IContactSyncLedger ledger,
    RetryRunner retries,
    IOptionsMonitor<ActiveCampaignOptions> options,
    TimeProvider clock,
    ILogger<SyncContactConsumer> logger) : IConsumer<SignupRequested>
{
    public const string UnavailableReason = "activecampaign:unavailable";

    public async Task Consume(ConsumeContext<SignupRequested> context)
    {
        var signup = context.Message;
        var entry = await ledger.Find(signup.SignupId, context.CancellationToken);

        if (entry is null && !crm.IsConfigured)
        {
            // Not recorded: once ActiveCampaign is configured, a redelivery should really sync.
            await context.Publish(new ContactSynced(signup.SignupId, null, Created: false, Skipped: true, StepAttempts.Count(context)));
            return;
        }

        await retries.Run(context, options.CurrentValue.Retry,
            async (attempts, cancellationToken) =>
            {
                if (entry is null)
                {
                    // If the process dies between this call and the ledger write, the retry is answered "updated" and
                    // the contact is never compensated: an orphan contact is the lesser harm than deleting someone's
                    // contact that existed before this signup.
                    var result = await crm.SyncContact(signup.Email, signup.Name, cancellationToken);
                    entry = await ledger.Record(
                        new ContactSyncEntry(signup.SignupId, result.ContactId, result.Created, result.FailureReason, clock.GetUtcNow()),
                        cancellationToken);
                }

                var reason = entry.FailureReason;
                if (reason is null && crm.IsConfigured && entry.ContactId is { } contactId
                    && await crm.AddToListAndTags(contactId, cancellationToken) is { } refusal)
                {
                    if (entry.Created)
                        await crm.DeleteContact(contactId, cancellationToken);
                    reason = refusal;
                }

                if (reason is not null)
                {
                    logger.LogWarning("ActiveCampaign refused the contact of signup {SignupId}: {Reason}", signup.SignupId, reason);
                    JoineryTelemetry.RecordStepFailure(reason);
                    await context.Publish(new ContactSyncFailed(signup.SignupId, reason, attempts));
                }
                else
                {
                    await context.Publish(new ContactSynced(signup.SignupId, entry.ContactId, entry.Created, Skipped: false, attempts));
                }
            },
            async (failure, attempts) =>
            {
                if (entry is { FailureReason: null, Created: true, ContactId: { } created })
                {
                    // Best effort, once: the API has been failing all along.
                    try
                    {
                        await crm.DeleteContact(created, context.CancellationToken);
                    }
                    catch (Exception ex) when (ex is TransientApiException or PermanentApiException or ThrottledException)
                    {
                        logger.LogError("Gave up on signup {SignupId}; its contact {ContactId} could not be removed: {Error}",
                            signup.SignupId, created, ex.Message);
                    }
                }
                JoineryTelemetry.RecordStepFailure(UnavailableReason);
                await context.Publish(new ContactSyncFailed(signup.SignupId, UnavailableReason, attempts));
            });
    }
}

public sealed class SyncContactConsumerDefinition : ConsumerDefinition<SyncContactConsumer>
{
    public SyncContactConsumerDefinition()
    {
        EndpointName = QueueNames.SyncContact;
        // ActiveCampaign allows a handful of requests per second per account; more in flight only earns 429s.
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SyncContactConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(CrmRetry.Configure);
    }
}
