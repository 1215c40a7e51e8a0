using Joinery.Contracts;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Commands lost with the broker. The saga is saved before the in-memory outbox sends, so a send lost as the broker goes
/// down is never repeated by the retried or redelivered event (it finds the work done). The gateway's deadline sweeper
/// publishes <see cref="SignupStalled"/> for a signup that has waited, unchanged since the broker's last disruption, on a
/// command this saga sent; the saga, which alone knows what is outstanding, sends it again. The consumers are
/// idempotent: Slack answers already_invited, a deleted contact deletes as gone, marking failed twice is the same record.
/// </summary>
public sealed partial class SignupStateMachine
{
    /// <summary>The gateway's deadline sweeper: the signup waited on a command this saga sent, unchanged, for too long.</summary>
    public Event<SignupStalled> Stalled { get; private set; } = null!;

    void ConfigureResend(TimeProvider clock)
    {
        Event(() => Stalled, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });

        // Touching the signup makes the sweeper wait another Signup:ResendAfter before the next nudge; in any other state
        // (or with nothing pending) the event is ignored (OnUnhandledEvent). AwaitingConfirmation: the Confirmation part.
        During(Inviting,
            When(Stalled, c => Unchanged(c) && c.Saga.SlackStatus == StepStatus.Running)
                .Then(c => Touch(c.Saga, clock))
                .SendAsync(Queue(QueueNames.InviteToSlack), c => Task.FromResult(Invite(c.Saga))));
        During(Failed,
            When(Stalled, c => Unchanged(c) && (c.Saga.CrmStatus == StepStatus.Compensating || c.Saga.StoreStatus == StepStatus.Compensating))
                .Then(c => Touch(c.Saga, clock))
                .ThenAsync(ResendCompensation));
    }

    /// <summary>A nudge about the signup as it is now, not one published before it last changed.</summary>
    static bool Unchanged(BehaviorContext<SignupState, SignupStalled> context) =>
        context.Saga.UpdatedAt <= context.Message.UnchangedSince;

    /// <summary>Sends again the undo command of every step still compensating (no answer came back).</summary>
    static async Task ResendCompensation(BehaviorContext<SignupState> context)
    {
        if (context.Saga.CrmStatus == StepStatus.Compensating && context.Saga.CrmContactId is not null)
            await SendDeleteContact(context);
        if (context.Saga.StoreStatus == StepStatus.Compensating)
            await SendMarkFailed(context);
    }
}
