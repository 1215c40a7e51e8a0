using MassTransit;

namespace Joinery.Gateway.Saga;

/// <summary>One signup's progress. Finished instances are kept: they are the audit trail and the status API's source.</summary>
public sealed class SignupState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public int Version { get; set; }
    public string CurrentState { get; set; } = "Initial";

    /// <summary>True once SignupRequested arrived; step outcomes may arrive before it.</summary>
    public bool Requested { get; set; }
    public string? Name { get; set; }
    public string? Email { get; set; }
    public string? NormalizedEmail { get; set; }

    public string StoreStatus { get; set; } = StepStatus.Pending;
    public string? StoreDetail { get; set; }
    public string CrmStatus { get; set; } = StepStatus.Pending;
    public string? CrmDetail { get; set; }
    public string? CrmContactId { get; set; }
    /// <summary>Only a contact this signup created is deleted on compensation.</summary>
    public bool CrmCreated { get; set; }
    public string SlackStatus { get; set; } = StepStatus.Pending;
    public string? SlackDetail { get; set; }
    /// <summary>
    /// How many times each step was tried, as its consumer reported with the outcome (0: not reported yet, or by a
    /// consumer older than the count). The highest report wins: a duplicate delivery must not lower it.
    /// </summary>
    public int StoreAttempts { get; set; }
    public int CrmAttempts { get; set; }
    public int SlackAttempts { get; set; }
    /// <summary>Who approved or rejected the signup (Approval strategy), as the admin API's caller was named.</summary>
    public string? ApprovalBy { get; set; }

    public string? FailureReason { get; set; }
    /// <summary>The W3C trace id of the signup's trace (the gateway's POST), so the status API can point at it in Jaeger.</summary>
    public string? TraceId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// When the signup gives up on the step it waits for (UTC; null for instances written before deadlines existed):
    /// set when the signup starts (<c>Signup:Deadline</c>), and again on entering AwaitingApproval
    /// (<c>Signup:ApprovalDeadline</c>) and on approval. The gateway's <see cref="SignupDeadlineSweeper"/> finds the
    /// overdue ones.
    /// </summary>
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>
    /// Double opt-in (<c>Signup:ConfirmEmail</c>): SHA-256 hashes (hex, space-separated, newest last, at most
    /// <see cref="Confirmation.ConfirmationTokens.Kept"/>) of the tokens mailed to the visitor; never a token itself.
    /// Kept after confirmation, so that a second click is recognised as the same person.
    /// </summary>
    public string? ConfirmationTokenHashes { get; set; }
    /// <summary>When the last confirmation mail was asked for (a re-submission re-sends it at most every few minutes).</summary>
    public DateTimeOffset? ConfirmationMailedAt { get; set; }
    /// <summary>
    /// When the mailer reported the last confirmation mail taken by the mail server; null while it is pending (reset
    /// with every fresh mail), which is when the deadline sweeper may find it lost with the broker and have it sent again.
    /// </summary>
    public DateTimeOffset? ConfirmationMailSentAt { get; set; }
    /// <summary>When the visitor confirmed the address; null without double opt-in or until confirmed.</summary>
    public DateTimeOffset? EmailConfirmedAt { get; set; }
}

public static class StepStatus
{
    public const string Pending = "Pending";
    public const string Running = "Running";
    public const string Done = "Done";
    public const string Skipped = "Skipped";
    public const string Failed = "Failed";
    public const string Compensating = "Compensating";
    public const string Compensated = "Compensated";
    public const string CompensationFailed = "CompensationFailed";
    public const string AwaitingApproval = "AwaitingApproval";
    public const string Rejected = "Rejected";

    public static bool IsSettled(string status) => status is Done or Skipped;
}
