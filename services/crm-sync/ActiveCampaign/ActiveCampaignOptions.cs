using Joinery.ServiceDefaults.Retry;

namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>Configuration section <c>ActiveCampaign</c>. Without a base URL and a token the CRM step is skipped.</summary>
public sealed class ActiveCampaignOptions
{
    public const string Section = "ActiveCampaign";

    /// <summary>The account's API address, e.g. <c>https://account.api-us1.com</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Sent as the <c>Api-Token</c> header; never logged.</summary>
    public string? ApiToken { get; set; }

    /// <summary>The list every new contact is subscribed to (<c>POST /api/3/contactLists</c>, status 1); none when unset.</summary>
    public string? ListId { get; set; }

    /// <summary>Comma-separated tag ids every contact gets (<c>POST /api/3/contactTags</c>); none when unset.</summary>
    public string? TagIds { get; set; }

    /// <summary>Client-side limit for every call: ActiveCampaign allows 5 requests a second per account.</summary>
    public double RequestsPerSecond { get; set; } = 5;

    /// <summary>One attempt's limit; a lapsed attempt is transient and retried.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>ActiveCampaign:Retry:*</c>: backoff, deadline and in-process bound of the retries.</summary>
    public RetryPolicy Retry { get; set; } = new();

    public bool IsConfigured => BaseUri is not null && !string.IsNullOrWhiteSpace(ApiToken);

    public Uri? BaseUri => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) ? uri : null;

    public IReadOnlyList<string> Tags =>
        (TagIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
