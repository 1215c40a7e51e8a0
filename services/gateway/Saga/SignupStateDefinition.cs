using Joinery.Contracts;
using MassTransit;

namespace Joinery.Gateway.Saga;

public sealed class SignupStateDefinition : SagaDefinition<SignupState>
{
    public SignupStateDefinition()
    {
        EndpointName = QueueNames.SignupSaga;
        ConcurrentMessageLimit = 32;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<SignupState> sagaConfigurator,
        IRegistrationContext context)
    {
        // Lost version races (ConcurrencyException) and two first messages inserting at once (a duplicate key) both
        // succeed on a fresh load; the retry must wrap the outbox so nothing is sent for an attempt that did not save.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(10, 25, 50, 100, 200, 400, 800, 1600));
        endpointConfigurator.UseInMemoryOutbox(context);

        // One message per signup at a time within this instance: most races never happen, the retry covers the rest.
        var partition = endpointConfigurator.CreatePartitioner(ConcurrentMessageLimit ?? 32);
        sagaConfigurator.Message<SignupRequested>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupStored>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupStoreFailed>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<ContactSynced>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<ContactSyncFailed>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SlackInvited>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SlackInviteFailed>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<ContactDeleted>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupMarkedFailed>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<Fault<InviteToSlack>>(x => x.UsePartitioner(partition, m => m.Message.Message.SignupId));
        sagaConfigurator.Message<Fault<DeleteContact>>(x => x.UsePartitioner(partition, m => m.Message.Message.SignupId));
        sagaConfigurator.Message<Fault<MarkSignupFailed>>(x => x.UsePartitioner(partition, m => m.Message.Message.SignupId));
        sagaConfigurator.Message<ApprovalRequested>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupApproved>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupRejected>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupTimedOut>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<SignupConfirmationRequested>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<EmailConfirmed>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
        sagaConfigurator.Message<Fault<SendConfirmationMail>>(x => x.UsePartitioner(partition, m => m.Message.Message.SignupId));
        sagaConfigurator.Message<SignupStalled>(x => x.UsePartitioner(partition, m => m.Message.SignupId));
    }
}
