namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>Configuration section <c>ActiveCampaign</c>. Without a base URL and a token the CRM step is skipped.</summary>
public sealed class ActiveCampaignOptions
{
    public const string Section = "ActiveCampaign";

    /// <summary>The account's API address, e.g. <c>https://account.api-us1.com</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Sent as the <c>Api-Token</c> header; never logged.</summary>
    public string? ApiToken { get; set; }

    /// <summary>One attempt's limit; a lapsed attempt is transient and left to the message retry.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsConfigured => BaseUri is not null && !string.IsNullOrWhiteSpace(ApiToken);

    public Uri? BaseUri => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) ? uri : null;
}
