using Joinery.Contracts;
using Joinery.Store.Persistence;
using MassTransit;

namespace Joinery.Store.Consumers;

/// <summary>Compensation: the record stays, marked failed with the saga's reason.</summary>
public sealed class MarkSignupFailedConsumer(ISignupRepository signups, TimeProvider clock) : IConsumer<MarkSignupFailed>
{
    public async Task Consume(ConsumeContext<MarkSignupFailed> context)
    {
        // An unknown id means nothing was stored, so there is nothing left to undo: still acknowledge.
        await signups.MarkFailed(context.Message.SignupId, context.Message.Reason, clock.GetUtcNow(), context.CancellationToken);
        await context.Publish(new SignupMarkedFailed(context.Message.SignupId));
    }
}

public sealed class MarkSignupFailedConsumerDefinition : ConsumerDefinition<MarkSignupFailedConsumer>
{
    public MarkSignupFailedConsumerDefinition()
    {
        EndpointName = QueueNames.MarkSignupFailed;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<MarkSignupFailedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
    }
}
