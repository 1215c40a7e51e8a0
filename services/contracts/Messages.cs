namespace Joinery.Contracts;

// Every message carries SignupId: the saga correlates on it and every consumer is idempotent by it.
//
// Step outcomes end with Attempts: how many times the step was tried for this outcome (1 = first try), as the
// consumer counted it from MassTransit's retry and redelivery counters and the broker-held retry waits. Optional and
// last, so a message written before it existed still reads, as 0: not reported.

/// <summary>Published by the gateway once a visitor's signup is accepted.</summary>
public record SignupRequested(Guid SignupId, string Name, string Email, string NormalizedEmail, DateTimeOffset RequestedAt);

/// <summary>The store recorded the signup.</summary>
public record SignupStored(Guid SignupId, int Attempts = 0);

/// <summary>The store could not record the signup and never will (a permanent failure).</summary>
public record SignupStoreFailed(Guid SignupId, string Reason, int Attempts = 0);

/// <summary>The CRM holds the contact. <paramref name="Created"/> says whether this signup created it, which decides compensation.</summary>
public record ContactSynced(Guid SignupId, string? ContactId, bool Created, bool Skipped, int Attempts = 0);

/// <summary>The CRM refused the contact permanently.</summary>
public record ContactSyncFailed(Guid SignupId, string Reason, int Attempts = 0);

/// <summary>
/// Sent by the saga once the record and the CRM contact exist: the invite cannot be undone, so it goes last.
/// <paramref name="Approved"/> is set when an admin approved the signup (the Approval strategy's second round);
/// optional and last, so messages written before it existed still read as not approved.
/// </summary>
public record InviteToSlack(Guid SignupId, string Name, string Email, bool Approved = false);

/// <summary>Slack accepted the invite, or the person was already invited or a member (both count as success).</summary>
public record SlackInvited(Guid SignupId, string Outcome, int Attempts = 0);

/// <summary>Slack refused the invite permanently.</summary>
public record SlackInviteFailed(Guid SignupId, string Reason, int Attempts = 0);

/// <summary>Compensation: remove a CRM contact that this signup created.</summary>
public record DeleteContact(Guid SignupId, string ContactId);

/// <summary>The CRM contact created by this signup is gone.</summary>
public record ContactDeleted(Guid SignupId);

/// <summary>Compensation: mark the stored record failed; records are never silently deleted.</summary>
public record MarkSignupFailed(Guid SignupId, string Reason);

/// <summary>The stored record now says failed.</summary>
public record SignupMarkedFailed(Guid SignupId);

/// <summary>slack-invite asked the admins to approve the signup (Approval strategy); the saga waits in AwaitingApproval.</summary>
public record ApprovalRequested(Guid SignupId, int Attempts = 0);

/// <summary>An admin approved the signup through the gateway's admin API; the saga sends the invite, marked approved.</summary>
public record SignupApproved(Guid SignupId, string? ApprovedBy, DateTimeOffset ApprovedAt);

/// <summary>An admin rejected the signup; the saga fails it with <c>admin:rejected</c> and compensates.</summary>
public record SignupRejected(Guid SignupId, string? Reason, string? RejectedBy, DateTimeOffset RejectedAt);

/// <summary>Sent by the gateway when an admin erases a person: the store removes the record of this signup for good.</summary>
public record ErasePerson(Guid SignupId);

/// <summary>
/// Published by the gateway's deadline sweeper for a signup still waiting on a step past its deadline. The saga fails
/// it with <c>timeout:&lt;step&gt;</c> and compensates; in a final state it is ignored. <paramref name="Step"/> is the
/// step the sweeper saw waiting (<c>store</c>, <c>crm</c>, <c>slack</c>, <c>approval</c>), for logs; the saga names
/// the step from its own state.
/// </summary>
public record SignupTimedOut(Guid SignupId, string Step, DateTimeOffset Deadline);

/// <summary>
/// Published by the gateway instead of <see cref="SignupRequested"/> when <c>Signup:ConfirmEmail</c> is on: the saga
/// waits in AwaitingConfirmation and mails a link; nothing reaches the CRM or Slack before the visitor confirms.
/// </summary>
public record SignupConfirmationRequested(Guid SignupId, string Name, string Email, string NormalizedEmail, DateTimeOffset RequestedAt);

/// <summary>
/// Sent by the saga to the gateway's mailer: mail the visitor a link carrying <paramref name="Token"/>, whose hash
/// only the saga keeps. The token is never logged; once this command faulted the saga fails the signup, so a token
/// left in an error queue confirms nothing.
/// </summary>
public record SendConfirmationMail(Guid SignupId, string Name, string Email, string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// Published by the gateway's mailer once the mail server took the mail of <see cref="SendConfirmationMail"/>:
/// <paramref name="TokenHash"/> is the SHA-256 hash (hex) of the token it carried, which the saga keeps anyway, so the
/// saga can tell the report of its latest mail from a late one about an earlier mail. Until it comes, the deadline
/// sweeper treats the mail as possibly lost with the broker and has the saga mail a fresh link.
/// </summary>
public record ConfirmationMailSent(Guid SignupId, string TokenHash);

/// <summary>The visitor confirmed the address through the mailed link; the saga publishes <see cref="SignupRequested"/>.</summary>
public record EmailConfirmed(Guid SignupId, DateTimeOffset ConfirmedAt);

/// <summary>
/// Published by the gateway's deadline sweeper for a signup that has waited on a command the saga sent (the invite, a
/// compensation, or a confirmation mail not reported sent) with no change since <paramref name="UnchangedSince"/> (its
/// UpdatedAt). The saga sends the pending command again, as its state says; a send lost with the broker is otherwise
/// never repeated. Ignored once the signup changed since, or has nothing pending.
/// </summary>
public record SignupStalled(Guid SignupId, DateTimeOffset UnchangedSince);

/// <summary>Outcome names carried by <see cref="SlackInvited"/>.</summary>
public static class SlackOutcomes
{
    public const string Invited = "Invited";
    public const string AlreadyInvited = "AlreadyInvited";
    public const string AlreadyMember = "AlreadyMember";
    public const string Skipped = "Skipped";
    /// <summary>The workspace's shared invite link was emailed to the person (InviteLink strategy).</summary>
    public const string InviteLinkSent = "InviteLinkSent";
    /// <summary>An admin approved and invites the person by hand (Approval with the Manual follow-up).</summary>
    public const string InvitedByAdmin = "InvitedByAdmin";
}

/// <summary>Queues that commands are sent to; the consumers' definitions use the same names.</summary>
public static class QueueNames
{
    public const string StoreSignup = "store-signup";
    public const string MarkSignupFailed = "mark-signup-failed";
    public const string ErasePerson = "erase-person";
    public const string SyncContact = "sync-contact";
    public const string DeleteContact = "delete-contact";
    public const string InviteToSlack = "invite-to-slack";
    public const string SignupSaga = "signup-state";
    public const string SendConfirmationMail = "send-confirmation-mail";
}
