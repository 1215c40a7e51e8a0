using Joinery.Contracts;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Tracks one signup: store and CRM run in parallel, the Slack invite (which cannot be undone) goes last, and a
/// permanent failure compensates whatever already happened. Messages may arrive twice or out of order, so every
/// step outcome may create the instance, and late outcomes after a failure are compensated as they come.
/// </summary>
public sealed class SignupStateMachine : MassTransitStateMachine<SignupState>
{
    public State Processing { get; private set; } = null!;
    public State Inviting { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;

    public Event<SignupRequested> Requested { get; private set; } = null!;
    public Event<SignupStored> Stored { get; private set; } = null!;
    public Event<SignupStoreFailed> StoreFailed { get; private set; } = null!;
    public Event<ContactSynced> Synced { get; private set; } = null!;
    public Event<ContactSyncFailed> SyncFailed { get; private set; } = null!;
    public Event<SlackInvited> Invited { get; private set; } = null!;
    public Event<SlackInviteFailed> InviteFailed { get; private set; } = null!;
    public Event<ContactDeleted> ContactDeleted { get; private set; } = null!;
    public Event<SignupMarkedFailed> MarkedFailed { get; private set; } = null!;

    public SignupStateMachine(TimeProvider clock)
    {
        InstanceState(x => x.CurrentState);

        Event(() => Requested, e => e.CorrelateById(m => m.Message.SignupId));
        Event(() => Stored, e => e.CorrelateById(m => m.Message.SignupId));
        Event(() => StoreFailed, e => e.CorrelateById(m => m.Message.SignupId));
        Event(() => Synced, e => e.CorrelateById(m => m.Message.SignupId));
        Event(() => SyncFailed, e => e.CorrelateById(m => m.Message.SignupId));
        // These only ever follow a command this saga sent, so without an instance they are stray and dropped.
        Event(() => Invited, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => InviteFailed, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ContactDeleted, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => MarkedFailed, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });

        // Anything not handled below is a duplicate or arrived too late to matter.
        OnUnhandledEvent(context => context.Ignore());

        During(Initial, Processing,
            When(Requested)
                .Then(c =>
                {
                    c.Saga.Requested = true;
                    c.Saga.Name = c.Message.Name;
                    c.Saga.Email = c.Message.Email;
                    c.Saga.NormalizedEmail = c.Message.NormalizedEmail;
                    Touch(c.Saga, clock, c.Message.RequestedAt);
                })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(Stored)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Done; Touch(c.Saga, clock); })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(Synced)
                .Then(c => { RecordContact(c.Saga, c.Message); Touch(c.Saga, clock); })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(StoreFailed)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Failed; c.Saga.StoreDetail = c.Message.Reason; })
                .Fail(this, clock, c => c.Message.Reason),
            When(SyncFailed)
                .Then(c => { c.Saga.CrmStatus = StepStatus.Failed; c.Saga.CrmDetail = c.Message.Reason; })
                .Fail(this, clock, c => c.Message.Reason));

        During(Inviting,
            When(Invited)
                .Then(c =>
                {
                    c.Saga.SlackStatus = c.Message.Outcome == SlackOutcomes.Skipped ? StepStatus.Skipped : StepStatus.Done;
                    c.Saga.SlackDetail = c.Message.Outcome;
                    Touch(c.Saga, clock);
                })
                .TransitionTo(Completed),
            When(InviteFailed)
                .Then(c => { c.Saga.SlackStatus = StepStatus.Failed; c.Saga.SlackDetail = c.Message.Reason; })
                .Fail(this, clock, c => c.Message.Reason));

        // A step that finishes after the signup failed leaves something behind: undo it now.
        During(Failed,
            When(Requested)
                .Then(c => { c.Saga.Requested = true; c.Saga.Name ??= c.Message.Name; c.Saga.Email ??= c.Message.Email; }),
            When(Stored)
                .Then(c => c.Saga.StoreStatus = StepStatus.Done)
                .ThenAsync(Compensate),
            When(Synced)
                .Then(c => RecordContact(c.Saga, c.Message))
                .ThenAsync(Compensate),
            When(ContactDeleted)
                .Then(c => { c.Saga.CrmStatus = StepStatus.Compensated; Touch(c.Saga, clock); }),
            When(MarkedFailed)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Compensated; Touch(c.Saga, clock); }));
    }

    internal static bool ReadyToInvite(SignupState s) =>
        s.Requested && StepStatus.IsSettled(s.StoreStatus) && StepStatus.IsSettled(s.CrmStatus);

    internal static void Touch(SignupState saga, TimeProvider clock, DateTimeOffset? created = null)
    {
        var now = clock.GetUtcNow();
        if (saga.CreatedAt == default)
            saga.CreatedAt = created ?? now;
        saga.UpdatedAt = now;
    }

    static void RecordContact(SignupState saga, ContactSynced message)
    {
        saga.CrmStatus = message.Skipped ? StepStatus.Skipped : StepStatus.Done;
        saga.CrmContactId = message.ContactId;
        saga.CrmCreated = message.Created;
        saga.CrmDetail = message.Skipped ? "not configured" : message.Created ? "created" : "updated";
    }

    /// <summary>Sends the undo command for every step that completed and has not been undone yet.</summary>
    internal static async Task Compensate(BehaviorContext<SignupState> context)
    {
        var saga = context.Saga;
        var reason = saga.FailureReason ?? "failed";
        if (saga.CrmStatus == StepStatus.Done)
        {
            if (saga.CrmCreated && saga.CrmContactId is not null)
            {
                saga.CrmStatus = StepStatus.Compensating;
                await context.Send(Queue(QueueNames.DeleteContact), new DeleteContact(saga.CorrelationId, saga.CrmContactId));
            }
        }
        if (saga.StoreStatus == StepStatus.Done)
        {
            saga.StoreStatus = StepStatus.Compensating;
            await context.Send(Queue(QueueNames.MarkSignupFailed), new MarkSignupFailed(saga.CorrelationId, reason));
        }
    }

    internal static Uri Queue(string name) => new($"queue:{name}");
}

static class SignupStateMachineBinders
{
    public static EventActivityBinder<SignupState, T> InviteWhenReady<T>(this EventActivityBinder<SignupState, T> binder,
        SignupStateMachine machine) where T : class =>
        binder.If(c => SignupStateMachine.ReadyToInvite(c.Saga), then => then
            .Then(c => c.Saga.SlackStatus = StepStatus.Running)
            .SendAsync(SignupStateMachine.Queue(QueueNames.InviteToSlack),
                c => Task.FromResult(new InviteToSlack(c.Saga.CorrelationId, c.Saga.Name!, c.Saga.Email!)))
            .TransitionTo(machine.Inviting));

    public static EventActivityBinder<SignupState, T> Fail<T>(this EventActivityBinder<SignupState, T> binder,
        SignupStateMachine machine, TimeProvider clock, Func<BehaviorContext<SignupState, T>, string> reason) where T : class =>
        binder
            .Then(c =>
            {
                c.Saga.FailureReason = reason(c);
                SignupStateMachine.Touch(c.Saga, clock);
            })
            .ThenAsync(c => SignupStateMachine.Compensate(c))
            .TransitionTo(machine.Failed);
}
