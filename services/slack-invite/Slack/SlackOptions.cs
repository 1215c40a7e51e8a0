namespace Joinery.SlackInvite.Slack;

/// <summary>Configuration section <c>Slack</c>. Without a token the Slack step is skipped.</summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";

    /// <summary>The Web API root; methods are resolved below its path, e.g. <c>{BaseUrl}/admin.users.invite</c>.</summary>
    public string BaseUrl { get; set; } = "https://slack.com/api";

    /// <summary>A user token allowed to call <c>admin.users.invite</c>; sent as a bearer token, never logged.</summary>
    public string? Token { get; set; }

    public string? TeamId { get; set; }

    /// <summary>Comma-separated channel ids the invitee joins, as Slack's <c>channel_ids</c> expects.</summary>
    public string? ChannelIds { get; set; }

    /// <summary>One attempt's limit; a lapsed attempt is transient and left to the message retry.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Token);

    public Uri? BaseUri => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) ? uri : null;
}
