using Joinery.Contracts;
using Joinery.Store.Persistence;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Joinery.Store.Consumers;

/// <summary>
/// An admin erased a person: their record goes for good. Unlike compensation, which marks a record failed and keeps
/// it, erasure removes it. Idempotent: an id with no record (already erased, or never stored) is done as well.
/// </summary>
public sealed class ErasePersonConsumer(ISignupRepository signups, ILogger<ErasePersonConsumer> logger) : IConsumer<ErasePerson>
{
    public async Task Consume(ConsumeContext<ErasePerson> context)
    {
        var removed = await signups.Erase(context.Message.SignupId, context.CancellationToken);
        // The id only: the log must not bring back what was just erased.
        logger.LogInformation("Erasure of signup {SignupId}: {Outcome}", context.Message.SignupId, removed ? "record removed" : "no record");
    }
}

public sealed class ErasePersonConsumerDefinition : ConsumerDefinition<ErasePersonConsumer>
{
    public ErasePersonConsumerDefinition()
    {
        EndpointName = QueueNames.ErasePerson;
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ErasePersonConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
    }
}
