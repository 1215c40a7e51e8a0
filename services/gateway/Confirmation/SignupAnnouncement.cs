using Joinery.Contracts;
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
}
