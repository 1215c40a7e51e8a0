namespace Joinery.FakeApis;

/// <summary>Configuration section <c>FakeApis</c>; the defaults match what deploy/local hands the services.</summary>
public sealed class FakeApiOptions
{
    public const string Section = "FakeApis";
    public const string DefaultActiveCampaignToken = "fake-ac-token";
    public const string DefaultSlackToken = "xoxp-fake-token";
    public const string DefaultSlackBotToken = "xoxb-fake-token";
    public const int DefaultSmtpPort = 2525;
    public const string DefaultTurnstileSecret = "fake-turnstile-secret";

    /// <summary>The only value of the <c>Api-Token</c> header ActiveCampaign accepts.</summary>
    public string ActiveCampaignToken { get; set; } = DefaultActiveCampaignToken;

    /// <summary>The user token Slack accepts (every method).</summary>
    public string SlackToken { get; set; } = DefaultSlackToken;

    /// <summary>The bot token Slack accepts (<c>users.lookupByEmail</c>, <c>chat.postMessage</c>; not the admin methods).</summary>
    public string SlackBotToken { get; set; } = DefaultSlackBotToken;

    /// <summary>The secret key Turnstile's siteverify accepts (besides Cloudflare's documented test secrets).</summary>
    public string TurnstileSecret { get; set; } = DefaultTurnstileSecret;

    /// <summary>The SMTP sink's port on 127.0.0.1; 0 picks a free one (see <see cref="FakeSmtpServer.Port"/>).</summary>
    public int SmtpPort { get; set; } = DefaultSmtpPort;
}
