using Joinery.Contracts;
using Joinery.ServiceDefaults.Retry;
using Joinery.ServiceDefaults.Telemetry;
using Joinery.Store.Persistence;
using MassTransit;

namespace Joinery.Store.Consumers;

public sealed class StoreSignupConsumer(ISignupRepository signups, TimeProvider clock) : IConsumer<SignupRequested>
{
    public const string EmailTakenReason = "store:email_already_registered";

    public async Task Consume(ConsumeContext<SignupRequested> context)
    {
        var m = context.Message;
        var now = clock.GetUtcNow();
        var outcome = await signups.Add(
            new SignupRecord(m.SignupId, m.Name, m.Email, m.NormalizedEmail, SignupRecord.Stored, null, now, now),
            context.CancellationToken);

        if (outcome == AddSignupOutcome.EmailTaken)
        {
            JoineryTelemetry.RecordStepFailure(EmailTakenReason);
            await context.Publish(new SignupStoreFailed(m.SignupId, EmailTakenReason, StepAttempts.Count(context)));
        }
        else
            await context.Publish(new SignupStored(m.SignupId, StepAttempts.Count(context)));
    }
}

public sealed class StoreSignupConsumerDefinition : ConsumerDefinition<StoreSignupConsumer>
{
    public StoreSignupConsumerDefinition()
    {
        EndpointName = QueueNames.StoreSignup;
        ConcurrentMessageLimit = 16;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<StoreSignupConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // A busy or briefly unavailable database is transient; the write is idempotent, so retrying is safe.
        endpointConfigurator.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
    }
}
