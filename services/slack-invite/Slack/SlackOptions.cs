using Joinery.ServiceDefaults.Mail;
using Joinery.ServiceDefaults.Retry;

namespace Joinery.SlackInvite.Slack;

/// <summary>How slack-invite gets a person into the workspace (<c>Slack:Strategy</c>).</summary>
public enum SlackStrategy
{
    /// <summary><c>admin.users.invite</c> (Enterprise Grid; user token with <c>admin.users:write</c>). The default.</summary>
    AdminApi,
    /// <summary>Posts the applicant to the admins' channel and waits for an admin's decision; then <see cref="SlackOptions.ApprovalFollowUp"/>.</summary>
    Approval,
    /// <summary>Emails the workspace's shared invite link (SMTP), counting its uses.</summary>
    InviteLink,
    /// <summary><c>users.admin.invite</c>: undocumented, needs a legacy token Slack no longer issues. Opt-in only.</summary>
    Legacy,
}

/// <summary>What happens once an admin approved (<c>Slack:ApprovalFollowUp</c>).</summary>
public enum SlackFollowUp
{
    AdminApi,
    InviteLink,
    Legacy,
    /// <summary>The admin invites by hand; the signup completes as <c>InvitedByAdmin</c>.</summary>
    Manual,
}

/// <summary>Configuration section <c>Slack</c>. Tokens come from configuration or the environment only and are never logged.</summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";

    public SlackStrategy Strategy { get; set; } = SlackStrategy.AdminApi;

    public SlackFollowUp ApprovalFollowUp { get; set; } = SlackFollowUp.Manual;

    /// <summary>The Web API root; methods are resolved below its path, e.g. <c>{BaseUrl}/admin.users.invite</c>.</summary>
    public string BaseUrl { get; set; } = "https://slack.com/api";

    /// <summary>
    /// A user token: allowed to call <c>admin.users.invite</c> (AdminApi) or a legacy token (Legacy). Sent as a bearer
    /// token, never logged.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>A bot token for <c>users.lookupByEmail</c> (<c>users:read.email</c>) and <c>chat.postMessage</c> (<c>chat:write</c>).</summary>
    public string? BotToken { get; set; }

    public string? TeamId { get; set; }

    /// <summary>Comma-separated channel ids the invitee joins, as Slack's <c>channel_ids</c> expects.</summary>
    public string? ChannelIds { get; set; }

    /// <summary>The admins' channel: approval requests and invite-link warnings are posted there.</summary>
    public string? AdminChannelId { get; set; }

    /// <summary>Optional link to the admin page for one signup, <c>{id}</c> replaced, shown in the approval request.</summary>
    public string? ApprovalUrlTemplate { get; set; }

    /// <summary>The workspace's name, used in the invite-link email.</summary>
    public string? WorkspaceName { get; set; }

    /// <summary>The workspace's shared invite link (InviteLink).</summary>
    public string? InviteLink { get; set; }

    /// <summary>How many people the link admits (Slack allows up to 400 per link); null for no count.</summary>
    public int? InviteLinkMaxUses { get; set; }

    /// <summary>When the link stops working (Slack links last up to 30 days).</summary>
    public DateTimeOffset? InviteLinkExpiresAt { get; set; }

    /// <summary>Admins are warned this many days before <see cref="InviteLinkExpiresAt"/> (and when a tenth of the uses is left).</summary>
    public int InviteLinkWarnDays { get; set; } = 3;

    /// <summary>Client-side limit for <c>admin.users.invite</c> and <c>users.admin.invite</c>: Tier 2, 20 a minute.</summary>
    public double InvitesPerMinute { get; set; } = 20;

    /// <summary>Client-side limit for <c>users.lookupByEmail</c>: Tier 3, 50 a minute.</summary>
    public double LookupsPerMinute { get; set; } = 50;

    /// <summary>Client-side limit for <c>chat.postMessage</c>: about one a second per channel.</summary>
    public double PostsPerMinute { get; set; } = 60;

    /// <summary>
    /// How many invites one instance works on at once (the consumer's concurrency and prefetch). Waiting for a permit
    /// holds no thread, so this only bounds how many messages an instance takes off the queue.
    /// </summary>
    public int ConcurrentInvites { get; set; } = 8;

    /// <summary>One attempt's limit; a lapsed attempt is transient and retried.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>Slack:Retry:*</c>: backoff, deadline and in-process bound of the retries.</summary>
    public RetryPolicy Retry { get; set; } = new();

    public Uri? BaseUri => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) ? uri : null;

    public bool CanLookUp => !string.IsNullOrWhiteSpace(BotToken);

    public bool CanPostToAdmins => !string.IsNullOrWhiteSpace(BotToken) && !string.IsNullOrWhiteSpace(AdminChannelId);

    /// <summary>The invite method used for this message: the strategy's, or after an approval the follow-up.</summary>
    public SlackFollowUp? InviteMethod(bool approved) => Strategy switch
    {
        SlackStrategy.Approval => approved ? ApprovalFollowUp : null,
        SlackStrategy.AdminApi => SlackFollowUp.AdminApi,
        SlackStrategy.InviteLink => SlackFollowUp.InviteLink,
        SlackStrategy.Legacy => SlackFollowUp.Legacy,
        _ => null,
    };

    public bool UsesInviteLink => Strategy == SlackStrategy.InviteLink
                                  || (Strategy == SlackStrategy.Approval && ApprovalFollowUp == SlackFollowUp.InviteLink);

    /// <summary>What is missing for the configured strategy; empty when the Slack step can run (else it is skipped).</summary>
    public IReadOnlyList<string> Missing(SmtpOptions smtp)
    {
        var missing = new List<string>();
        if (Strategy == SlackStrategy.Approval)
        {
            if (string.IsNullOrWhiteSpace(BotToken))
                missing.Add("Slack:BotToken");
            if (string.IsNullOrWhiteSpace(AdminChannelId))
                missing.Add("Slack:AdminChannelId");
        }
        var method = Strategy == SlackStrategy.Approval ? ApprovalFollowUp : InviteMethod(false);
        switch (method)
        {
            case SlackFollowUp.AdminApi or SlackFollowUp.Legacy when string.IsNullOrWhiteSpace(Token):
                missing.Add("Slack:Token");
                break;
            case SlackFollowUp.InviteLink:
                if (string.IsNullOrWhiteSpace(InviteLink))
                    missing.Add("Slack:InviteLink");
                if (string.IsNullOrWhiteSpace(smtp.Host))
                    missing.Add("Smtp:Host");
                if (string.IsNullOrWhiteSpace(smtp.From))
                    missing.Add("Smtp:From");
                break;
        }
        return missing;
    }
}
