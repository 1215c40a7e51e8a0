namespace Joinery.SlackInvite.InviteLink;

/// <summary>
/// The invite link's uses, kept so the count survives restarts and a redelivered message does not mail twice or
/// count twice. A use is reserved before the mail goes out (so concurrent consumers never exceed the cap), then
/// confirmed, or released when the mail could not be sent.
/// </summary>
public interface IInviteLinkLedger
{
    Task Initialize(CancellationToken cancellationToken = default);

    /// <summary>True when the mail for this signup went out already.</summary>
    Task<bool> WasSent(Guid signupId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reserves one use of the link (identified by <paramref name="linkKey"/>) for the signup, unless
    /// <paramref name="maxUses"/> are taken already; a signup that holds a reservation keeps it. Returns the uses
    /// taken, this one included, or null when the cap is reached.
    /// </summary>
    Task<int?> Reserve(Guid signupId, string linkKey, int? maxUses, DateTimeOffset now, CancellationToken cancellationToken = default);

    Task MarkSent(Guid signupId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Gives the use back (the mail was refused for good).</summary>
    Task Release(Guid signupId, CancellationToken cancellationToken = default);

    Task<int> Uses(string linkKey, CancellationToken cancellationToken = default);

    /// <summary>Records that the warning <paramref name="kind"/> was given for the link on <paramref name="day"/>; false when it already was.</summary>
    Task<bool> TryRecordWarning(string linkKey, string kind, DateOnly day, CancellationToken cancellationToken = default);
}
