using Joinery.Contracts;
using Joinery.CrmSync.ActiveCampaign;
using Joinery.CrmSync.Ledger;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Joinery.CrmSync.Consumers;

public sealed class SyncContactConsumer(
    ActiveCampaignClient crm,
    IContactSyncLedger ledger,
    TimeProvider clock,
    ILogger<SyncContactConsumer> logger) : IConsumer<SignupRequested>
{
    public async Task Consume(ConsumeContext<SignupRequested> context)
    {
        var signup = context.Message;
        var entry = await ledger.Find(signup.SignupId, context.CancellationToken);

        if (entry is null)
        {
            if (!crm.IsConfigured)
            {
                // Not recorded: once ActiveCampaign is configured, a redelivery should really sync.
                await context.Publish(new ContactSynced(signup.SignupId, null, Created: false, Skipped: true));
                return;
            }

            // If the process dies between this call and the ledger write, the retry is answered "updated" and
            // the contact is never compensated: an orphan contact is the lesser harm than deleting someone's
            // contact that existed before this signup.
            var result = await crm.SyncContact(signup.Email, signup.Name, context.CancellationToken);
            entry = await ledger.Record(
                new ContactSyncEntry(signup.SignupId, result.ContactId, result.Created, result.FailureReason, clock.GetUtcNow()),
                context.CancellationToken);
        }

        if (entry.FailureReason is { } reason)
        {
            logger.LogWarning("ActiveCampaign refused the contact of signup {SignupId}: {Reason}", signup.SignupId, reason);
            await context.Publish(new ContactSyncFailed(signup.SignupId, reason));
        }
        else
        {
            await context.Publish(new ContactSynced(signup.SignupId, entry.ContactId, entry.Created, Skipped: false));
        }
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
