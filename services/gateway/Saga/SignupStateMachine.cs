using Joinery.Contracts;
using Joinery.ServiceDefaults.Telemetry;
using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>
/// Tracks one signup: store and CRM run in parallel, the Slack invite (which cannot be undone) goes last, and a
/// permanent failure compensates whatever already happened. Messages may arrive twice or out of order, so every
/// step outcome may create the instance, and late outcomes after a failure are compensated as they come.
/// </summary>
public sealed partial class SignupStateMachine : MassTransitStateMachine<SignupState>
{
    public State Processing { get; private set; } = null!;
    public State Inviting { get; private set; } = null!;
    /// <summary>Slack's Approval strategy asked the admins; the admin API's approve or reject moves the signup on.</summary>
    public State AwaitingApproval { get; private set; } = null!;
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
    // A command whose consumer gave up (retries exhausted, or refused for good) comes back as a fault.
    public Event<Fault<InviteToSlack>> InviteFaulted { get; private set; } = null!;
    public Event<Fault<DeleteContact>> DeleteFaulted { get; private set; } = null!;
    public Event<Fault<MarkSignupFailed>> MarkFaulted { get; private set; } = null!;
    // The approval flow: slack-invite asks (ApprovalRequested), an admin answers through the gateway's admin API.
    public Event<ApprovalRequested> AskedForApproval { get; private set; } = null!;
    public Event<SignupApproved> Approved { get; private set; } = null!;
    public Event<SignupRejected> Rejected { get; private set; } = null!;
    /// <summary>The gateway's deadline sweeper: the signup waited too long for a step.</summary>
    public Event<SignupTimedOut> TimedOut { get; private set; } = null!;

    readonly SignupDeadlines _deadlines;

    public SignupStateMachine(TimeProvider clock, SignupDeadlines? deadlines = null)
    {
        _deadlines = deadlines ?? new SignupDeadlines();
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
        Event(() => InviteFaulted, e => { e.CorrelateById(m => m.Message.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => DeleteFaulted, e => { e.CorrelateById(m => m.Message.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => MarkFaulted, e => { e.CorrelateById(m => m.Message.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => AskedForApproval, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => Approved, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => Rejected, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => TimedOut, e => { e.CorrelateById(m => m.Message.SignupId); e.OnMissingInstance(m => m.Discard()); });

        // Anything not handled below is a duplicate or arrived too late to matter.
        OnUnhandledEvent(context => context.Ignore());
        // Each part declares its events before any When uses them: the resend's Stalled is used by the confirmation's too.
        ConfigureResend(clock); // commands lost with the broker: SignupStateMachine.Resend.cs
        ConfigureConfirmation(clock); // double opt-in: SignupStateMachine.Confirmation.cs

        During(Initial, Processing,
            When(Requested)
                .Then(c =>
                {
                    c.Saga.Requested = true;
                    c.Saga.Name = c.Message.Name;
                    c.Saga.Email = c.Message.Email;
                    c.Saga.NormalizedEmail = c.Message.NormalizedEmail;
                    // The saga's span is in the trace the gateway's POST started: its id is the signup's trace id.
                    c.Saga.TraceId ??= JoineryTelemetry.CurrentTraceId();
                    Touch(c.Saga, clock, c.Message.RequestedAt);
                    StartDeadline(c.Saga);
                })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(Stored)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Done; c.Saga.StoreAttempts = Attempts(c.Saga.StoreAttempts, c.Message.Attempts); Touch(c.Saga, clock); StartDeadline(c.Saga); })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(Synced)
                .Then(c => { RecordContact(c.Saga, c.Message); Touch(c.Saga, clock); StartDeadline(c.Saga); })
                .TransitionTo(Processing)
                .InviteWhenReady(this),
            When(StoreFailed)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Failed; c.Saga.StoreDetail = c.Message.Reason; c.Saga.StoreAttempts = Attempts(c.Saga.StoreAttempts, c.Message.Attempts); })
                .Fail(this, clock, c => c.Message.Reason),
            When(SyncFailed)
                .Then(c => { c.Saga.CrmStatus = StepStatus.Failed; c.Saga.CrmDetail = c.Message.Reason; c.Saga.CrmAttempts = Attempts(c.Saga.CrmAttempts, c.Message.Attempts); })
                .Fail(this, clock, c => c.Message.Reason));

        During(Inviting,
            When(Invited)
                .Then(c =>
                {
                    c.Saga.SlackStatus = c.Message.Outcome == SlackOutcomes.Skipped ? StepStatus.Skipped : StepStatus.Done;
                    c.Saga.SlackDetail = c.Message.Outcome;
                    c.Saga.SlackAttempts = Attempts(c.Saga.SlackAttempts, c.Message.Attempts);
                    Touch(c.Saga, clock);
                    JoineryMetrics.SignupCompleted(c.Saga.UpdatedAt - c.Saga.CreatedAt);
                })
                .TransitionTo(Completed),
            When(InviteFailed)
                .Then(c => { c.Saga.SlackStatus = StepStatus.Failed; c.Saga.SlackDetail = c.Message.Reason; c.Saga.SlackAttempts = Attempts(c.Saga.SlackAttempts, c.Message.Attempts); })
                .Fail(this, clock, c => c.Message.Reason),
            When(InviteFaulted)
                .Then(c => { c.Saga.SlackStatus = StepStatus.Failed; c.Saga.SlackDetail = FaultDetail(c.Message); })
                .Fail(this, clock, _ => "slack:unavailable"),
            // Strategy-agnostic: the saga does not know Slack's strategy, slack-invite says it needs an admin.
            When(AskedForApproval)
                .Then(c =>
                {
                    c.Saga.SlackStatus = StepStatus.AwaitingApproval;
                    c.Saga.SlackDetail = "awaiting an admin's approval";
                    c.Saga.SlackAttempts = Attempts(c.Saga.SlackAttempts, c.Message.Attempts);
                    Touch(c.Saga, clock);
                    c.Saga.Deadline = c.Saga.UpdatedAt.ToUniversalTime() + _deadlines.ApprovalDeadline;
                })
                .TransitionTo(AwaitingApproval));

        // Only a signup that is waiting can be approved or rejected; anywhere else the decision is ignored (the admin
        // API answers 409 before publishing, so this only catches races and duplicates).
        During(AwaitingApproval,
            When(Approved)
                .Then(c =>
                {
                    c.Saga.SlackStatus = StepStatus.Running;
                    c.Saga.SlackDetail = ApprovedDetail;
                    c.Saga.ApprovalBy = c.Message.ApprovedBy;
                    Touch(c.Saga, clock);
                    c.Saga.Deadline = c.Saga.UpdatedAt.ToUniversalTime() + _deadlines.Deadline; // for the invite itself
                })
                .SendAsync(Queue(QueueNames.InviteToSlack), c => Task.FromResult(Invite(c.Saga)))
                .TransitionTo(Inviting),
            When(Rejected)
                .Then(c =>
                {
                    c.Saga.SlackStatus = StepStatus.Rejected;
                    c.Saga.SlackDetail = string.IsNullOrWhiteSpace(c.Message.Reason) ? "rejected by an admin" : c.Message.Reason;
                    c.Saga.ApprovalBy = c.Message.RejectedBy;
                })
                .Fail(this, clock, _ => RejectedReason),
            // A late answer to the first InviteToSlack (e.g. a redelivery that found the person already a member).
            When(Invited)
                .Then(c =>
                {
                    c.Saga.SlackStatus = c.Message.Outcome == SlackOutcomes.Skipped ? StepStatus.Skipped : StepStatus.Done;
                    c.Saga.SlackDetail = c.Message.Outcome;
                    c.Saga.SlackAttempts = Attempts(c.Saga.SlackAttempts, c.Message.Attempts);
                    Touch(c.Saga, clock);
                    JoineryMetrics.SignupCompleted(c.Saga.UpdatedAt - c.Saga.CreatedAt);
                })
                .TransitionTo(Completed),
            When(InviteFailed)
                .Then(c => { c.Saga.SlackStatus = StepStatus.Failed; c.Saga.SlackDetail = c.Message.Reason; c.Saga.SlackAttempts = Attempts(c.Saga.SlackAttempts, c.Message.Attempts); })
                .Fail(this, clock, c => c.Message.Reason));

        // A step that never answered: give up on it, undo what the others did. The event is checked against the saga's
        // own deadline, so a stale one (published before an approval moved the deadline on) changes nothing; in
        // Completed and Failed it is ignored (OnUnhandledEvent).
        During(Processing, Inviting, AwaitingApproval, AwaitingConfirmation,
            When(TimedOut, c => c.Saga.Deadline is { } deadline && deadline <= clock.GetUtcNow())
                .Then(c =>
                {
                    var step = SignupDeadlines.WaitingStep(c.Saga);
                    var detail = $"no answer within the deadline ({c.Saga.Deadline:O})";
                    switch (step)
                    {
                        case "store": c.Saga.StoreStatus = StepStatus.Failed; c.Saga.StoreDetail = detail; break;
                        case "crm": c.Saga.CrmStatus = StepStatus.Failed; c.Saga.CrmDetail = detail; break;
                        case "slack" or "approval": c.Saga.SlackStatus = StepStatus.Failed; c.Saga.SlackDetail = detail; break;
                    }
                    c.Saga.FailureReason = TimeoutReason(step);
                })
                .Fail(this, clock, c => c.Saga.FailureReason!));

        // A step that finishes after the signup failed leaves something behind: undo it now.
        During(Failed,
            When(Requested)
                .Then(c => { c.Saga.Requested = true; c.Saga.Name ??= c.Message.Name; c.Saga.Email ??= c.Message.Email; }),
            When(Stored)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Done; c.Saga.StoreAttempts = Attempts(c.Saga.StoreAttempts, c.Message.Attempts); Touch(c.Saga, clock); })
                .ThenAsync(Compensate),
            When(Synced)
                .Then(c => { RecordContact(c.Saga, c.Message); Touch(c.Saga, clock); })
                .ThenAsync(Compensate),
            When(ContactDeleted)
                .Then(c => { c.Saga.CrmStatus = StepStatus.Compensated; Touch(c.Saga, clock); }),
            When(MarkedFailed)
                .Then(c => { c.Saga.StoreStatus = StepStatus.Compensated; Touch(c.Saga, clock); }),
            // Undo that could not be done is shown as such, never reported as done.
            When(DeleteFaulted)
                .Then(c => { c.Saga.CrmStatus = StepStatus.CompensationFailed; c.Saga.CrmDetail = FaultDetail(c.Message); Touch(c.Saga, clock); }),
            When(MarkFaulted)
                .Then(c => { c.Saga.StoreStatus = StepStatus.CompensationFailed; c.Saga.StoreDetail = FaultDetail(c.Message); Touch(c.Saga, clock); }));
    }

    /// <summary>The failure reason of a signup that waited past its deadline for <paramref name="step"/>.</summary>
    public static string TimeoutReason(string step) => $"timeout:{step}";

    /// <summary>The deadline runs from the signup's start; whichever message creates the instance starts it.</summary>
    void StartDeadline(SignupState saga) =>
        saga.Deadline ??= saga.CreatedAt.ToUniversalTime() + _deadlines.Deadline;

    /// <summary>The failure reason of a signup an admin rejected.</summary>
    public const string RejectedReason = "admin:rejected";

    /// <summary>The Slack step's detail once an admin approved: the invite it sends (and re-sends) is marked approved.</summary>
    public const string ApprovedDetail = "approved";

    /// <summary>The invite for this signup; approved when an admin approved it (the Approval strategy's second round).</summary>
    internal static InviteToSlack Invite(SignupState saga) =>
        new(saga.CorrelationId, saga.Name!, saga.Email!, Approved: saga.SlackDetail == ApprovedDetail);

    static string FaultDetail<T>(Fault<T> fault) =>
        fault.Exceptions.FirstOrDefault() is { } e ? $"{e.ExceptionType}: {e.Message}" : "gave up";

    internal static bool ReadyToInvite(SignupState s) =>
        s.Requested && StepStatus.IsSettled(s.StoreStatus) && StepStatus.IsSettled(s.CrmStatus);

    internal static void Touch(SignupState saga, TimeProvider clock, DateTimeOffset? created = null)
    {
        var now = clock.GetUtcNow();
        if (saga.CreatedAt == default)
            saga.CreatedAt = created ?? now;
        saga.UpdatedAt = now;
    }

    /// <summary>The highest count reported: outcomes arrive at least once and in any order.</summary>
    static int Attempts(int recorded, int reported) => Math.Max(recorded, reported);

    static void RecordContact(SignupState saga, ContactSynced message)
    {
        saga.CrmAttempts = Attempts(saga.CrmAttempts, message.Attempts);
        saga.CrmStatus = message.Skipped ? StepStatus.Skipped : StepStatus.Done;
        saga.CrmContactId = message.ContactId;
        saga.CrmCreated = message.Created;
        saga.CrmDetail = message.Skipped ? "not configured" : message.Created ? "created" : "updated";
    }

    /// <summary>Sends the undo command for every step that completed and has not been undone yet.</summary>
    internal static async Task Compensate(BehaviorContext<SignupState> context)
    {
        var saga = context.Saga;
        if (saga.CrmStatus == StepStatus.Done && saga.CrmCreated && saga.CrmContactId is not null)
        {
            saga.CrmStatus = StepStatus.Compensating;
            await SendDeleteContact(context);
        }
        if (saga.StoreStatus == StepStatus.Done)
        {
            saga.StoreStatus = StepStatus.Compensating;
            await SendMarkFailed(context);
        }
    }

    static Task SendDeleteContact(BehaviorContext<SignupState> context) =>
        context.Send(Queue(QueueNames.DeleteContact), new DeleteContact(context.Saga.CorrelationId, context.Saga.CrmContactId!));

    static Task SendMarkFailed(BehaviorContext<SignupState> context) =>
        context.Send(Queue(QueueNames.MarkSignupFailed), new MarkSignupFailed(context.Saga.CorrelationId, context.Saga.FailureReason ?? "failed"));

    internal static Uri Queue(string name) => new($"queue:{name}");
}

static class SignupStateMachineBinders
{
    public static EventActivityBinder<SignupState, T> InviteWhenReady<T>(this EventActivityBinder<SignupState, T> binder,
        SignupStateMachine machine) where T : class =>
        binder.If(c => SignupStateMachine.ReadyToInvite(c.Saga), then => then
            .Then(c => c.Saga.SlackStatus = StepStatus.Running)
            .SendAsync(SignupStateMachine.Queue(QueueNames.InviteToSlack), c => Task.FromResult(SignupStateMachine.Invite(c.Saga)))
            .TransitionTo(machine.Inviting));

    public static EventActivityBinder<SignupState, T> Fail<T>(this EventActivityBinder<SignupState, T> binder,
        SignupStateMachine machine, TimeProvider clock, Func<BehaviorContext<SignupState, T>, string> reason) where T : class =>
        binder
            .Then(c =>
            {
                c.Saga.FailureReason = reason(c);
                SignupStateMachine.Touch(c.Saga, clock);
                JoineryTelemetry.RecordStepFailure(c.Saga.FailureReason);
                JoineryMetrics.SignupFailed(c.Saga.FailureReason, c.Saga.UpdatedAt - c.Saga.CreatedAt);
            })
            .ThenAsync(c => SignupStateMachine.Compensate(c))
            .TransitionTo(machine.Failed);
}
