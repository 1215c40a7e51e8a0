using Joinery.Contracts;
using Joinery.CrmSync.ActiveCampaign;
using Joinery.ServiceDefaults.Retry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Joinery.CrmSync.Consumers;

/// <summary>Compensation: removes the contact this signup created. A contact that is already gone counts as deleted.</summary>
public sealed class DeleteContactConsumer(ActiveCampaignClient crm, RetryRunner retries, IOptionsMonitor<ActiveCampaignOptions> options)
    : IConsumer<DeleteContact>
{
    public async Task Consume(ConsumeContext<DeleteContact> context)
    {
        // Claiming "deleted" without having reached the CRM would hide a contact left behind; faulting leaves the
        // message in the error queue and publishes Fault<DeleteContact> for whoever has to act on it.
        if (!crm.IsConfigured)
            throw new PermanentApiException("activecampaign:not_configured");

        await retries.Run(context, options.CurrentValue.Retry,
            async cancellationToken =>
            {
                await crm.DeleteContact(context.Message.ContactId, cancellationToken);
                await context.Publish(new ContactDeleted(context.Message.SignupId));
            },
            failure => throw new PermanentApiException(SyncContactConsumer.UnavailableReason));
    }
}

public sealed class DeleteContactConsumerDefinition : ConsumerDefinition<DeleteContactConsumer>
{
    public DeleteContactConsumerDefinition()
    {
        EndpointName = QueueNames.DeleteContact;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<DeleteContactConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(CrmRetry.Configure);
    }
}
