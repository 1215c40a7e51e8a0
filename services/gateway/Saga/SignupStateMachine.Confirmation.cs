using Joinery.Contracts;
using Joinery.Gateway.Confirmation;
using Joinery.ServiceDefaults.Telemetry;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Double opt-in (<c>Signup:ConfirmEmail</c>): the gateway publishes <see cref="SignupConfirmationRequested"/> instead
/// of <see cref="SignupRequested"/>; the saga waits in AwaitingConfirmation, has the link mailed, and only once the
/// visitor confirmed publishes <see cref="SignupRequested"/> itself, so that the store and the CRM (and then Slack)
/// start only then. Until then nothing outside the gateway has happened, so a timeout has nothing to undo.
/// </summary>
public sealed partial class SignupStateMachine
{
    /// <summary>A re-submission of the same address re-sends the mail at most this often (a mail bomb needs more than a form).</summary>
    public static readonly TimeSpan ConfirmationResendInterval = TimeSpan.FromMinutes(5);

    /// <summary>The failure reason when the confirmation mail could not be sent (the mailer gave up).</summary>
    public const string ConfirmationMailFailedReason = "confirmation:mail_failed";

    /// <summary>The visitor has been mailed a link and has not followed it yet.</summary>
    public State AwaitingConfirmation { get; private set; } = null!;

    public Event<SignupConfirmationRequested> ConfirmationRequested { get; private set; } = null!;
    public Event<EmailConfirmed> Confirmed { get; private set; } = null!;
    public Event<Fault<SendConfirmationMail>> ConfirmationMailFaulted { get; private set; } = null!;
    public Event<ConfirmationMailSent> ConfirmationMailed { get; private set; } = null!;

    void ConfigureConfirmation(TimeProvider clock)
    {
        Event(() => ConfirmationRequested, e => e.CorrelateById(m => m.Message.SignupId));
        // A confirmation or a mail fault always follows a request this saga handled: without an instance it is stray.
        Event(() => Confirmed, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ConfirmationMailFaulted, e => { e.CorrelateById(m => m.Message.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ConfirmationMailed, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });

        Initially(
            When(ConfirmationRequested)
                .Then(c =>
                {
                    c.Saga.Name = c.Message.Name;
                    c.Saga.Email = c.Message.Email;
                    c.Saga.NormalizedEmail = c.Message.NormalizedEmail;
                    c.Saga.TraceId ??= JoineryTelemetry.CurrentTraceId();
                    Touch(c.Saga, clock, c.Message.RequestedAt);
                    // The link expires with this deadline, and the sweeper times the signup out at it.
                    c.Saga.Deadline = c.Saga.CreatedAt.ToUniversalTime() + _deadlines.ConfirmationDeadline;
                })
                .ThenAsync(c => MailConfirmationLink(c, clock))
                .TransitionTo(AwaitingConfirmation));

        During(AwaitingConfirmation,
            // The same address submitted again (the gateway answers with this signup's id): the mail may have been
            // lost, so send a fresh link, but not more often than the interval.
            When(ConfirmationRequested, c => MayMailAgain(c.Saga, clock))
                .Then(c => Touch(c.Saga, clock))
                .ThenAsync(c => MailConfirmationLink(c, clock)),
            // The mailer's report on the latest mail (a late one about an earlier mail leaves a fresh mail pending).
            When(ConfirmationMailed, c => ConfirmationTokens.IsNewest(c.Saga.ConfirmationTokenHashes, c.Message.TokenHash)
                                            && c.Saga.ConfirmationMailSentAt is null)
                .Then(c => { c.Saga.ConfirmationMailSentAt = clock.GetUtcNow(); Touch(c.Saga, clock); }),
            // The mail never reported sent, unchanged since before a broker disruption (the sweeper's SignupStalled): the
            // command may have been lost with the broker, so mail a fresh link, under the same throttle as a re-submission.
            // A mail merely unread is reported sent, so it is never re-sent this way.
            When(Stalled, c => Unchanged(c) && c.Saga.ConfirmationMailSentAt is null && MayMailAgain(c.Saga, clock))
                .Then(c => Touch(c.Saga, clock))
                .ThenAsync(c => MailConfirmationLink(c, clock)),
            When(Confirmed)
                .Then(c =>
                {
                    c.Saga.EmailConfirmedAt = c.Message.ConfirmedAt;
                    Touch(c.Saga, clock);
                    // From here the signup runs as without double opt-in, with the steps' own deadline.
                    c.Saga.Deadline = c.Saga.UpdatedAt.ToUniversalTime() + _deadlines.Deadline;
                })
                .PublishAsync(c => Task.FromResult(new SignupRequested(c.Saga.CorrelationId, c.Saga.Name!, c.Saga.Email!,
                    c.Saga.NormalizedEmail!, c.Saga.CreatedAt)))
                .TransitionTo(Processing),
            When(ConfirmationMailFaulted)
                .Fail(this, clock, _ => ConfirmationMailFailedReason));
    }

    /// <summary>A fresh link is mailed at most every <see cref="ConfirmationResendInterval"/>, whatever asked for it.</summary>
    static bool MayMailAgain(SignupState saga, TimeProvider clock) =>
        saga.ConfirmationMailedAt is not { } last || clock.GetUtcNow() - last >= ConfirmationResendInterval;

    /// <summary>
    /// A fresh token for the mail: the saga keeps only its hash (with the previous ones', so an earlier mail's link
    /// still works), the token itself travels once, in the command to the gateway's own mailer.
    /// </summary>
    static async Task MailConfirmationLink<T>(BehaviorContext<SignupState, T> context, TimeProvider clock) where T : class
    {
        var saga = context.Saga;
        var token = ConfirmationTokens.New();
        saga.ConfirmationTokenHashes = ConfirmationTokens.Remember(saga.ConfirmationTokenHashes, token);
        saga.ConfirmationMailedAt = clock.GetUtcNow();
        saga.ConfirmationMailSentAt = null; // pending until the mailer reports this mail sent
        await context.Send(Queue(QueueNames.SendConfirmationMail),
            new SendConfirmationMail(saga.CorrelationId, saga.Name!, saga.Email!, token, saga.Deadline!.Value));
    }
}
