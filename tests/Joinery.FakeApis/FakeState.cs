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
    public const int DefaultSmtpStatus = 550;

    /// <summary>
    /// The method it applies to: Slack's method name (default: the invite methods), ActiveCampaign's path below
    /// <c>/api/3/</c> (default <c>contact/sync</c>; also <c>contactLists</c>, <c>contactTags</c>); unused for SMTP.
    /// </summary>
    public string? Method { get; init; }

    /// <summary>How many more calls it fails; null for every call from now on.</summary>
    public int? Times { get; init; }

    /// <summary>Sent as <c>Retry-After</c> (seconds) with the failure's answer, e.g. a 429.</summary>
    public int? RetryAfter { get; init; }

    /// <summary>Fills in each API's defaults; throws <see cref="ArgumentException"/> for what neither API could answer.</summary>
    public static FakeFailure Create(string? api, string? email, string? error = null, int? status = null) =>
        TryCreate(api, email, error, status, out var failure, out var problem) ? failure : throw new ArgumentException(problem);

    /// <summary>Fills in each API's defaults, or says what is wrong with the request.</summary>
    /// <remarks>
    /// Slack answers HTTP 200 with the error unless a <paramref name="status"/> of 400-599 is given (e.g. 429 or 503).
    /// SMTP refuses the recipient with <paramref name="status"/> (default 550; a 4xx is a temporary refusal).
    /// </remarks>
    public static bool TryCreate(string? api, string? email, string? error, int? status,
        [NotNullWhen(true)] out FakeFailure? failure, [NotNullWhen(false)] out string? problem)
    {
        failure = null;
        problem = null;
        var name = FakeApiNames.Normalize(api);
        if (name is null)
            problem = $"api must be '{FakeApiNames.Slack}', '{FakeApiNames.ActiveCampaign}' or '{FakeApiNames.Smtp}'";
        else if (string.IsNullOrWhiteSpace(email))
            problem = "email is required";
        // A success status would not be a failure, and anything else is not something an HTTP client can receive.
        else if (status is { } given && given != 200 && given is < 400 or > 599)
            problem = "status must be between 400 and 599";
        else if (name == FakeApiNames.Slack)
            failure = new(name, email.Trim(), string.IsNullOrWhiteSpace(error) ? DefaultSlackError : error.Trim(), status ?? 200);
        else if (status == 200)
            problem = "status must be between 400 and 599";
        else if (name == FakeApiNames.Smtp)
            failure = new(name, email.Trim(), string.IsNullOrWhiteSpace(error) ? "mailbox unavailable" : error.Trim(), status ?? DefaultSmtpStatus);
        else
            failure = new(name, email.Trim(), string.IsNullOrWhiteSpace(error) ? DefaultActiveCampaignError : error.Trim(),
                status ?? DefaultActiveCampaignStatus);
        return failure is not null;
    }
}

/// <summary>A <c>chat.postMessage</c> the fake Slack accepted.</summary>
public sealed record FakeSlackMessage(string Channel, string Text, string Ts, DateTimeOffset PostedAt);

/// <summary>A contact's subscription to a list (<c>POST /api/3/contactLists</c>).</summary>
public sealed record FakeContactList(string Id, string Contact, string List, string Status, DateTimeOffset UpdatedAt);

/// <summary>A tag on a contact (<c>POST /api/3/contactTags</c>).</summary>
public sealed record FakeContactTag(string Id, string Contact, string Tag, DateTimeOffset CreatedAt);

/// <summary>A mail the SMTP sink received, parsed.</summary>
public sealed record FakeMail(string? From, IReadOnlyList<string> To, string? Subject, string Text, string? AuthenticatedAs, DateTimeOffset ReceivedAt);

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
    readonly Dictionary<(string Api, string? Method, string Email), FakeFailure> _failures = [];
    readonly List<FakeSlackMessage> _messages = [];
    readonly Dictionary<(string Contact, string List), FakeContactList> _contactLists = [];
    readonly Dictionary<(string Contact, string Tag), FakeContactTag> _contactTags = [];
    readonly List<FakeMail> _mails = [];
    long _lastSubscriptionId;
    long _lastMessage;
    FakeBehaviour _behaviour = new();
    (FakeRateLimit? Invites, FakeRateLimit? Lookups, FakeRateLimit? Posts, FakeRateLimit? ActiveCampaign) _limits;
    Random _random = new();

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

    /// <summary>From now on the API refuses calls about this email (see <see cref="FakeFailure.Times"/>); a later failure for the same pair replaces it.</summary>
    public void AddFailure(FakeFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        lock (_gate)
            _failures[(failure.Api, failure.Method, EmailSyntax.Normalize(failure.Email))] = failure;
    }

    /// <summary>
    /// The failure that applies to this call, used up by one when it has a count. A failure naming the method comes
    /// first; one without a method applies to the API's default methods only (<paramref name="isDefaultMethod"/>).
    /// </summary>
    public FakeFailure? FindFailure(string api, string? email, string? method = null, bool isDefaultMethod = true)
    {
        if (string.IsNullOrWhiteSpace(email) || FakeApiNames.Normalize(api) is not { } name)
            return null;
        var normalized = EmailSyntax.Normalize(email);
        lock (_gate)
        {
            (string, string?, string) key = (name, method, normalized);
            if (method is null || !_failures.ContainsKey(key))
            {
                if (!isDefaultMethod)
                    return null;
                key = (name, null, normalized);
            }
            if (!_failures.TryGetValue(key, out var failure))
                return null;
            if (failure.Times is { } times)
            {
                if (times <= 1)
                    _failures.Remove(key);
                else
                    _failures[key] = failure with { Times = times - 1 };
            }
            return failure;
        }
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

    // --- Slack messages -------------------------------------------------------------------------------------------

    public FakeSlackMessage PostMessage(string channel, string text)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            var ts = $"{now.ToUnixTimeSeconds()}.{++_lastMessage:D6}";
            var message = new FakeSlackMessage(channel, text, ts, now);
            _messages.Add(message);
            return message;
        }
    }

    public IReadOnlyList<FakeSlackMessage> Messages
    {
        get
        {
            lock (_gate)
                return [.. _messages];
        }
    }

    // --- ActiveCampaign lists and tags ----------------------------------------------------------------------------

    /// <summary>Sets the contact's status on the list; true when the subscription is new.</summary>
    public (FakeContactList Subscription, bool Created) UpdateListStatus(string contact, string list, string status)
    {
        lock (_gate)
        {
            var created = !_contactLists.TryGetValue((contact, list), out var existing);
            var subscription = new FakeContactList(existing?.Id ?? (++_lastSubscriptionId).ToString(CultureInfo.InvariantCulture),
                contact, list, status, clock.GetUtcNow());
            _contactLists[(contact, list)] = subscription;
            return (subscription, created);
        }
    }

    /// <summary>Tags the contact; a tag it has already is returned as it is (not created twice).</summary>
    public (FakeContactTag Tag, bool Created) AddContactTag(string contact, string tag)
    {
        lock (_gate)
        {
            if (_contactTags.TryGetValue((contact, tag), out var existing))
                return (existing, false);
            var added = new FakeContactTag((++_lastSubscriptionId).ToString(CultureInfo.InvariantCulture), contact, tag, clock.GetUtcNow());
            _contactTags[(contact, tag)] = added;
            return (added, true);
        }
    }

    public IReadOnlyList<FakeContactList> ContactLists
    {
        get
        {
            lock (_gate)
                return [.. _contactLists.Values];
        }
    }

    public IReadOnlyList<FakeContactTag> ContactTags
    {
        get
        {
            lock (_gate)
                return [.. _contactTags.Values];
        }
    }

    // --- SMTP -----------------------------------------------------------------------------------------------------

    public void AddMail(FakeMail mail)
    {
        lock (_gate)
            _mails.Add(mail);
    }

    public IReadOnlyList<FakeMail> Mails
    {
        get
        {
            lock (_gate)
                return [.. _mails];
        }
    }

    // --- Behaviour ------------------------------------------------------------------------------------------------

    public FakeBehaviour Behaviour
    {
        get
        {
            lock (_gate)
                return _behaviour;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                _behaviour = value;
                _limits = (
                    Limit(value.Slack.InvitesPerMinute / 60),
                    Limit(value.Slack.LookupsPerMinute / 60),
                    Limit(value.Slack.PostsPerMinute / 60),
                    Limit(value.ActiveCampaign.RequestsPerSecond));
                _random = value.Seed is { } seed ? new Random(seed) : new Random();
            }
        }
    }

    FakeRateLimit? Limit(double? perSecond) => perSecond is > 0 ? new FakeRateLimit(perSecond.Value, clock) : null;

    /// <summary>The limit a call to this path counts against, if any.</summary>
    public FakeRateLimit? RateLimitFor(string api, string path)
    {
        lock (_gate)
        {
            if (api == FakeApiNames.ActiveCampaign)
                return _limits.ActiveCampaign;
            return path switch
            {
                "/api/admin.users.invite" or "/api/users.admin.invite" => _limits.Invites,
                "/api/users.lookupByEmail" => _limits.Lookups,
                "/api/chat.postMessage" => _limits.Posts,
                _ => null,
            };
        }
    }

    /// <summary>A number in [0, 1) for the random errors and timeouts.</summary>
    public double Roll()
    {
        lock (_gate)
            return _random.NextDouble();
    }

    // --- Everything -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Forgets contacts, lists and tags, invites, members, messages, mails, failures and the request log, and restores
    /// the default behaviour; contact ids keep counting up.
    /// </summary>
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
            _messages.Clear();
            _contactLists.Clear();
            _contactTags.Clear();
            _mails.Clear();
        }
        Behaviour = new FakeBehaviour();
        Requests.Clear();
    }
}
