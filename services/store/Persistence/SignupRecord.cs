namespace Joinery.Store.Persistence;

/// <summary>A person who signed up. Failed records are kept, marked, as the audit trail.</summary>
public sealed record SignupRecord(
    Guid SignupId,
    string Name,
    string Email,
    string NormalizedEmail,
    string Status,
    string? FailureReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public const string Stored = "Stored";
    public const string Failed = "Failed";
}

public enum AddSignupOutcome
{
    /// <summary>New record written.</summary>
    Stored,
    /// <summary>This signup id is already recorded: a redelivery, success.</summary>
    AlreadyStored,
    /// <summary>Another live signup holds this email.</summary>
    EmailTaken,
}

/// <summary>The store's one port: an adapter per database, all passing the same contract tests.</summary>
public interface ISignupRepository
{
    Task Initialize(CancellationToken cancellationToken = default);

    /// <summary>Idempotent by signup id, unique by normalized email; a failed record's email may be taken over by a new signup.</summary>
    Task<AddSignupOutcome> Add(SignupRecord record, CancellationToken cancellationToken = default);

    /// <summary>Marks the record failed; false when no record has this id.</summary>
    Task<bool> MarkFailed(Guid signupId, string reason, DateTimeOffset at, CancellationToken cancellationToken = default);

    Task<SignupRecord?> Find(Guid signupId, CancellationToken cancellationToken = default);

    /// <summary>Removes the record for good (a person's erasure); false when no record has this id.</summary>
    Task<bool> Erase(Guid signupId, CancellationToken cancellationToken = default);
}
