namespace Joinery.FakeApis;

/// <summary>Configuration section <c>FakeApis</c>; the defaults match what deploy/local hands the services.</summary>
public sealed class FakeApiOptions
{
    public const string Section = "FakeApis";
    public const string DefaultActiveCampaignToken = "fake-ac-token";
    public const string DefaultSlackToken = "xoxp-fake-token";

    /// <summary>The only value of the <c>Api-Token</c> header ActiveCampaign accepts.</summary>
    public string ActiveCampaignToken { get; set; } = DefaultActiveCampaignToken;

    /// <summary>The only bearer token Slack accepts.</summary>
    public string SlackToken { get; set; } = DefaultSlackToken;
}
