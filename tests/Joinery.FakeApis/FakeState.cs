using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Joinery.FakeApis;

/// <summary>An ActiveCampaign contact. Immutable: an update replaces it, so a snapshot never changes under a reader.</summary>
public sealed record FakeContact(
    string Id,
    string Email,
    string FirstName,
    string LastName,
    string Phone,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>What a contact sync came to: the contact as stored, and whether this call created it.</summary>
public sealed record FakeContactSync(FakeContact Contact, bool Created);

/// <summary>A successful <c>admin.users.invite</c> call, resends included.</summary>
public sealed record FakeSlackInvite(
    string Email,
    string TeamId,
    string ChannelIds,
    string? RealName,
    bool Resend,
    bool IsRestricted,
    bool IsUltraRestricted,
    string? CustomMessage,
    DateTimeOffset InvitedAt);

public enum SlackInviteOutcome
{
    Invited,
    AlreadyInTeam,
    AlreadyInvited,
}

/// <summary>
/// A permanent refusal configured for one email at one API. <see cref="Status"/> is the HTTP status for
/// ActiveCampaign; Slack always answers 200, so it is 200 there.
/// </summary>
public sealed record FakeFailure(string Api, string Email, string Error, int Status)
{
    public const string DefaultSlackError = "invalid_email";
    public const string DefaultActiveCampaignError = "email_invalid";
    public const int DefaultActiveCampaignStatus = 422;

    /// <summary>Fills in each API's defaults; throws <see cref="ArgumentException"/> for what neither API could answer.</summary>
    public static FakeFailure Create(string? api, string? email, string? error = null, int? status = null) =>
        TryCreate(api, email, error, status, out var failure, out var problem) ? failure : throw new ArgumentException(problem);

    /// <summary>Fills in each API's defaults, or says what is wrong with the request.</summary>
    public static bool TryCreate(string? api, string? email, string? error, int? status,
        [NotNullWhen(true)] out FakeFailure? failure, [NotNullWhen(false)] out string? problem)
    {
        failure = null;
        problem = null;
        var name = FakeApiNames.Normalize(api);
        if (name is null)
            problem = $"api must be '{FakeApiNames.Slack}' or '{FakeApiNames.ActiveCampaign}'";
        else if (string.IsNullOrWhiteSpace(email))
            problem = "email is required";
        else if (name == FakeApiNames.Slack)
            failure = new(name, email.Trim(), string.IsNullOrWhiteSpace(error) ? DefaultSlackError : error.Trim(), 200);
        // A success status would not be a failure, and anything else is not something an HTTP client can receive.
        else if ((status ?? DefaultActiveCampaignStatus) is < 400 or > 599)
            problem = "status must be between 400 and 599";
        else
            failure = new(name, email.Trim(), string.IsNullOrWhiteSpace(error) ? DefaultActiveCampaignError : error.Trim(),
                status ?? DefaultActiveCampaignStatus);
        return failure is not null;
    }
}

/// <summary>
/// Everything the fakes remember. One lock guards it all: the check-then-act steps (sync, invite) must be atomic,
/// and the fake is never under enough load for a finer scheme to pay off.
/// </summary>
public sealed class FakeState(TimeProvider clock)
{
    readonly Lock _gate = new();
    readonly Dictionary<string, FakeContact> _contactsById = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _contactIdsByEmail = new(StringComparer.Ordinal);
    readonly List<FakeSlackInvite> _invites = [];
    readonly HashSet<string> _invitedEmails = new(StringComparer.Ordinal);
    readonly List<string> _members = [];
    readonly HashSet<string> _memberEmails = new(StringComparer.Ordinal);
    readonly Dictionary<(string Api, string Email), FakeFailure> _failures = [];

    // Never reset: like ActiveCampaign, an id is not handed out twice, so a stale delete cannot hit a newer contact.
    long _lastContactId;

    public FakeState() : this(TimeProvider.System)
    {
    }

    public RequestLog Requests { get; } = new();

    // --- ActiveCampaign -------------------------------------------------------------------------------------------

    /// <summary>Creates the contact for this email (any case, trimmed), or updates the one there is.</summary>
    /// <remarks>Null fields keep their stored value, as a sync that leaves a field out does.</remarks>
    public FakeContactSync SyncContact(string email, string? firstName = null, string? lastName = null, string? phone = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        var trimmed = email.Trim();
        var key = EmailSyntax.Normalize(trimmed);
        var now = clock.GetUtcNow();

        lock (_gate)
        {
            if (_contactIdsByEmail.TryGetValue(key, out var id))
            {
                var existing = _contactsById[id];
                var updated = existing with
                {
                    Email = trimmed,
                    FirstName = firstName ?? existing.FirstName,
                    LastName = lastName ?? existing.LastName,
                    Phone = phone ?? existing.Phone,
                    UpdatedAt = now,
                };
                _contactsById[id] = updated;
                return new(updated, Created: false);
            }

            var created = new FakeContact(
                (++_lastContactId).ToString(CultureInfo.InvariantCulture),
                trimmed, firstName ?? "", lastName ?? "", phone ?? "", now, now);
            _contactsById[created.Id] = created;
            _contactIdsByEmail[key] = created.Id;
            return new(created, Created: true);
        }
    }

    public FakeContact? FindContact(string id)
    {
        lock (_gate)
            return _contactsById.GetValueOrDefault(id);
    }

    public FakeContact? FindContactByEmail(string email)
    {
        var key = EmailSyntax.Normalize(email);
        lock (_gate)
            return _contactIdsByEmail.TryGetValue(key, out var id) ? _contactsById[id] : null;
    }

    /// <summary>Removes the contact and returns it, or null when there was none with this id.</summary>
    public FakeContact? DeleteContact(string id)
    {
        lock (_gate)
        {
            if (!_contactsById.Remove(id, out var contact))
                return null;
            _contactIdsByEmail.Remove(EmailSyntax.Normalize(contact.Email));
            return contact;
        }
    }

    /// <summary>All contacts, oldest first.</summary>
    public IReadOnlyList<FakeContact> Contacts
    {
        get
        {
            lock (_gate)
                return _contactsById.Values.OrderBy(c => long.Parse(c.Id, CultureInfo.InvariantCulture)).ToList();
        }
    }

    // --- Slack ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Records the invite unless the email is a member already, or was invited already and this is no resend;
    /// decided and recorded in one step, so two racing invites for one email get one <c>ok</c> between them.
    /// </summary>
    public SlackInviteOutcome InviteToSlack(FakeSlackInvite invite)
    {
        ArgumentNullException.ThrowIfNull(invite);
        var key = EmailSyntax.Normalize(invite.Email);
        lock (_gate)
        {
            if (_memberEmails.Contains(key))
                return SlackInviteOutcome.AlreadyInTeam;
            if (_invitedEmails.Contains(key) && !invite.Resend)
                return SlackInviteOutcome.AlreadyInvited;
            _invitedEmails.Add(key);
            _invites.Add(invite);
            return SlackInviteOutcome.Invited;
        }
    }

    /// <summary>All successful invites, in the order they were made.</summary>
    public IReadOnlyList<FakeSlackInvite> Invites
    {
        get
        {
            lock (_gate)
                return [.. _invites];
        }
    }

    /// <summary>Makes the email an existing workspace member; returns false when it already was one.</summary>
    public bool AddSlackMember(string email)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        lock (_gate)
        {
            if (!_memberEmails.Add(EmailSyntax.Normalize(email)))
                return false;
            _members.Add(email.Trim());
            return true;
        }
    }

    public bool IsSlackMember(string email)
    {
        var key = EmailSyntax.Normalize(email);
        lock (_gate)
            return _memberEmails.Contains(key);
    }

    public IReadOnlyList<string> SlackMembers
    {
        get
        {
            lock (_gate)
                return [.. _members];
        }
    }

    // --- Failures -------------------------------------------------------------------------------------------------

    /// <summary>From now on the API refuses every call about this email; a later failure for the same pair replaces it.</summary>
    public void AddFailure(FakeFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        lock (_gate)
            _failures[(failure.Api, EmailSyntax.Normalize(failure.Email))] = failure;
    }

    public FakeFailure? FindFailure(string api, string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || FakeApiNames.Normalize(api) is not { } name)
            return null;
        var key = (name, EmailSyntax.Normalize(email));
        lock (_gate)
            return _failures.GetValueOrDefault(key);
    }

    public IReadOnlyList<FakeFailure> Failures
    {
        get
        {
            lock (_gate)
                return [.. _failures.Values];
        }
    }

    public void ClearFailures()
    {
        lock (_gate)
            _failures.Clear();
    }

    // --- Everything -----------------------------------------------------------------------------------------------

    /// <summary>Forgets contacts, invites, members, failures and the request log; contact ids keep counting up.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _contactsById.Clear();
            _contactIdsByEmail.Clear();
            _invites.Clear();
            _invitedEmails.Clear();
            _members.Clear();
            _memberEmails.Clear();
            _failures.Clear();
        }
        Requests.Clear();
    }
}
