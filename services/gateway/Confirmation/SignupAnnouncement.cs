using Joinery.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// What the gateway publishes for an accepted signup: <see cref="SignupRequested"/>, or with double opt-in
/// <see cref="SignupConfirmationRequested"/> (the saga then asks the visitor first). The ledger keeps the
/// SignupRequested either way; the choice is made when it is published, by the request or by the outbox.
/// </summary>
public sealed class SignupAnnouncement(IOptions<ConfirmationOptions> options)
{
    public bool ConfirmEmail => options.Value.ConfirmEmail;

    public object For(SignupRequested message) => ConfirmEmail
        ? new SignupConfirmationRequested(message.SignupId, message.Name, message.Email, message.NormalizedEmail, message.RequestedAt)
        : message;

    /// <summary>
    /// The address of a signup that awaits confirmation was submitted again: the saga mails a fresh link, unless it did
    /// so less than <see cref="Saga.SignupStateMachine.ConfirmationResendInterval"/> ago. Best effort: the visitor
    /// already has the answer (the same signup), so a broker that does not take it within 2 s is only logged.
    /// </summary>
    public async Task AskAgain(IPublishEndpoint publisher, Guid signupId, SignupRequested submitted, ILogger logger,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await publisher.Publish(new SignupConfirmationRequested(signupId, submitted.Name, submitted.Email, submitted.NormalizedEmail,
                submitted.RequestedAt), timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not ask again for the confirmation of signup {SignupId}", signupId);
        }
    }
}
