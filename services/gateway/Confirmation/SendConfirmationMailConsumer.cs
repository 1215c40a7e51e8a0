using Joinery.Contracts;
using MassTransit;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// Mails the visitor the confirmation link the saga asked for. A permanent refusal faults the command (no retry): the
/// saga then fails the signup with <c>confirmation:mail_failed</c> instead of waiting out the deadline. A mail the server
/// took is reported with <see cref="ConfirmationMailSent"/>.
/// </summary>
public sealed class SendConfirmationMailConsumer(ConfirmationMailer mailer, ILogger<SendConfirmationMailConsumer> logger)
    : IConsumer<SendConfirmationMail>
{
    public async Task Consume(ConsumeContext<SendConfirmationMail> context)
    {
        var refusal = await mailer.Send(context.Message, context.CancellationToken);
        if (refusal is not null)
        {
            logger.LogWarning("The confirmation mail of signup {SignupId} was refused: {Reason}", context.Message.SignupId, refusal);
            throw new ConfirmationMailRefusedException(refusal);
        }
        // Never the token, nor the address: the signup id is enough to follow it.
        logger.LogInformation("Mailed the confirmation link of signup {SignupId}", context.Message.SignupId);
        // The saga counts the mail pending until this report, and has a pending one re-sent after a broker disruption.
        // Only the token's hash, which the saga keeps anyway. Should the publish fail, the retry mails the same link again.
        await context.Publish(new ConfirmationMailSent(context.Message.SignupId, ConfirmationTokens.Hash(context.Message.Token)));
    }
}

public sealed class SendConfirmationMailConsumerDefinition : ConsumerDefinition<SendConfirmationMailConsumer>
{
    public SendConfirmationMailConsumerDefinition()
    {
        EndpointName = QueueNames.SendConfirmationMail;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SendConfirmationMailConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // A mail server that is down for a moment: a few tries over about three minutes, then the command faults and the
        // visitor learns it at once (a second submission starts afresh) rather than after the confirmation deadline.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Ignore<ConfirmationMailRefusedException>();
            r.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(90));
        });
    }
}
