using Joinery.Contracts;
using Joinery.SlackInvite.Slack;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Joinery.SlackInvite.Consumers;

/// <summary>
/// Needs no ledger to be idempotent: Slack itself answers a repeated invite with <c>already_invited</c> or
/// <c>already_in_team</c>, which are successes.
/// </summary>
public sealed class InviteToSlackConsumer(SlackClient slack, ILogger<InviteToSlackConsumer> logger) : IConsumer<InviteToSlack>
{
    public async Task Consume(ConsumeContext<InviteToSlack> context)
    {
        var invite = context.Message;
        if (!slack.IsConfigured)
        {
            await context.Publish(new SlackInvited(invite.SignupId, SlackOutcomes.Skipped));
            return;
        }

        var result = await slack.Invite(invite.Email, invite.Name, context.CancellationToken);
        if (result.FailureReason is { } reason)
        {
            logger.LogWarning("Slack refused the invite of signup {SignupId}: {Reason}", invite.SignupId, reason);
            await context.Publish(new SlackInviteFailed(invite.SignupId, reason));
        }
        else
        {
            await context.Publish(new SlackInvited(invite.SignupId, result.Outcome!));
        }
    }
}

public sealed class InviteToSlackConsumerDefinition : ConsumerDefinition<InviteToSlackConsumer>
{
    public InviteToSlackConsumerDefinition()
    {
        EndpointName = QueueNames.InviteToSlack;
        // admin.users.invite is a Tier 2 method (about 20 calls a minute): a few at a time is all Slack takes.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<InviteToSlackConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The only retry on the way to Slack (the HTTP client has none, so retries never multiply). Permanent
        // refusals come back as results, not exceptions, so they are never retried.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            // About 0.5 s, 0.8 s, 1.4 s, 2.6 s, 5 s.
            retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300));
            retry.Handle<TransientApiException>();
            retry.Handle<HttpRequestException>();
            // What MassTransit makes of a timeout (TaskCanceledException) that escapes a consumer unwrapped.
            retry.Handle<ConsumerCanceledException>();
        });
    }
}
