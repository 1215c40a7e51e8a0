namespace Joinery.CrmSync.Ledger;

/// <summary>
/// What the CRM said for one signup, kept so that a redelivered <c>SignupRequested</c> republishes the same outcome:
/// asking ActiveCampaign again would answer "updated" and lose the fact that this signup created the contact.
/// </summary>
public sealed record ContactSyncEntry(Guid SignupId, string? ContactId, bool Created, string? FailureReason, DateTimeOffset RecordedAt);

/// <summary>The port for crm-sync's ledger: SQLite (embedded) or MongoDB (shared by every replica), by <c>Persistence:Provider</c>.</summary>
public interface IContactSyncLedger
{
    /// <summary>Creates whatever storage the ledger needs; safe to call more than once.</summary>
    Task Initialize(CancellationToken cancellationToken = default);

    Task<ContactSyncEntry?> Find(Guid signupId, CancellationToken cancellationToken = default);

    /// <summary>Records the entry unless the signup already has one, and returns the entry that stands (first writer wins).</summary>
    Task<ContactSyncEntry> Record(ContactSyncEntry entry, CancellationToken cancellationToken = default);
}
