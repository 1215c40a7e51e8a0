using System.Linq.Expressions;

namespace Joinery.Gateway.Saga;

/// <summary>
/// How long a signup may wait for its steps before the saga gives up on it, and how often the gateway looks for those
/// that waited too long. No scheduler is available on our RabbitMQ (no delayed-exchange plugin, no Quartz), so the
/// deadline is stored on the saga and <see cref="SignupDeadlineSweeper"/> polls for it.
/// </summary>
public sealed class SignupDeadlines
{
    public const string DeadlineKey = "Signup:Deadline";
    public const string ApprovalDeadlineKey = "Signup:ApprovalDeadline";
    public const string SweepIntervalKey = "Signup:DeadlineSweepInterval";
    public const string ConfirmationDeadlineKey = "Signup:ConfirmationDeadline";
    public const string ResendAfterKey = "Signup:ResendAfter";

    /// <summary>
    /// From the signup's start until it is invited. Longer than the consumers' own retry deadline (30 minutes by
    /// default), so that a timeout means a step that stopped answering, not one still retrying.
    /// </summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromHours(1);

    /// <summary>From entering AwaitingApproval until an admin approves or rejects.</summary>
    public TimeSpan ApprovalDeadline { get; init; } = TimeSpan.FromDays(14);

    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>From the signup's start until the visitor confirms the address (double opt-in); the link expires with it.</summary>
    public TimeSpan ConfirmationDeadline { get; init; } = TimeSpan.FromHours(48);

    /// <summary>
    /// How long a signup may wait on a command the saga sent, with no change, before the sweeper has the saga send it
    /// again (<see cref="Stalled"/>). Well under <see cref="Deadline"/>, so that a send lost with the broker costs minutes,
    /// not the signup; long enough that a command merely queued behind others is rarely sent twice.
    /// </summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The states in which a signup waits for something; Completed and Failed never time out.</summary>
    public static readonly string[] WaitingStates = ["Processing", "Inviting", "AwaitingApproval", "AwaitingConfirmation"];

    public static SignupDeadlines From(IConfiguration configuration)
    {
        var defaults = new SignupDeadlines();
        var deadlines = new SignupDeadlines
        {
            Deadline = configuration.GetValue<TimeSpan?>(DeadlineKey) ?? defaults.Deadline,
            ApprovalDeadline = configuration.GetValue<TimeSpan?>(ApprovalDeadlineKey) ?? defaults.ApprovalDeadline,
            SweepInterval = configuration.GetValue<TimeSpan?>(SweepIntervalKey) ?? defaults.SweepInterval,
            ConfirmationDeadline = configuration.GetValue<TimeSpan?>(ConfirmationDeadlineKey) ?? defaults.ConfirmationDeadline,
            ResendAfter = configuration.GetValue<TimeSpan?>(ResendAfterKey) ?? defaults.ResendAfter,
        };
        if (deadlines.Deadline <= TimeSpan.Zero || deadlines.ApprovalDeadline <= TimeSpan.Zero || deadlines.SweepInterval <= TimeSpan.Zero
            || deadlines.ConfirmationDeadline <= TimeSpan.Zero || deadlines.ResendAfter <= TimeSpan.Zero)
            throw new InvalidOperationException(
                $"{DeadlineKey}, {ApprovalDeadlineKey}, {ConfirmationDeadlineKey}, {SweepIntervalKey} and {ResendAfterKey} must be positive");
        return deadlines;
    }

    /// <summary>
    /// Signups in a waiting state whose deadline has passed. Deadlines are stored in UTC, so the comparison holds on
    /// both adapters: SQLite filters in memory, MongoDB compares the ISO-8601 strings the class map writes
    /// (fixed +00:00 offset; trailing zeros of the fraction trimmed, which keeps the order).
    /// </summary>
    public static Expression<Func<SignupState, bool>> Overdue(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return s => s.Deadline != null && s.Deadline < utc && WaitingStates.Contains(s.CurrentState);
    }

    /// <summary>
    /// Signups waiting on a command the saga sent, unchanged for <paramref name="resendAfter"/> and since at or before
    /// <paramref name="lastDisruption"/> (<see cref="BrokerDisruptions"/>): in Inviting with the invite sent
    /// (<c>InviteToSlack</c>), failed with an undo sent (<c>DeleteContact</c>, <c>MarkSignupFailed</c>), or awaiting
    /// confirmation with the mail not reported sent (<c>SendConfirmationMail</c>): the conditions under which the saga
    /// handles <c>SignupStalled</c> (where it also keeps to its re-send throttle for the mail). UpdatedAt is written in UTC (the saga's clock), so
    /// the comparison holds on both adapters, as for <see cref="Overdue"/>.
    /// </summary>
    public static Expression<Func<SignupState, bool>> Stalled(DateTimeOffset now, TimeSpan resendAfter, DateTimeOffset lastDisruption)
    {
        var unchanged = now.ToUniversalTime() - resendAfter;
        var disrupted = lastDisruption.ToUniversalTime().AddTicks(1);
        var before = unchanged < disrupted ? unchanged : disrupted;
        return s => s.UpdatedAt < before
            && ((s.CurrentState == "Inviting" && s.SlackStatus == StepStatus.Running)
                || (s.CurrentState == "Failed" && (s.CrmStatus == StepStatus.Compensating || s.StoreStatus == StepStatus.Compensating))
                || (s.CurrentState == "AwaitingConfirmation" && s.ConfirmationMailSentAt == null));
    }

    /// <summary>The step a waiting signup is waiting for, as its timeout reason names it (<c>timeout:&lt;step&gt;</c>).</summary>
    public static string WaitingStep(SignupState saga) => saga.CurrentState switch
    {
        "Inviting" => "slack",
        "AwaitingApproval" => "approval",
        "AwaitingConfirmation" => "confirmation", // nothing ran yet: nothing to mark failed or undo
        _ when !StepStatus.IsSettled(saga.StoreStatus) => "store",
        _ when !StepStatus.IsSettled(saga.CrmStatus) => "crm",
        _ => "gateway", // both steps done, the request itself never arrived
    };
}
