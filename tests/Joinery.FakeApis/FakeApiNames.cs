namespace Joinery.FakeApis;

/// <summary>The names the control API and the request log use for the faked services.</summary>
public static class FakeApiNames
{
    public const string Slack = "slack";
    public const string ActiveCampaign = "activecampaign";
    /// <summary>The SMTP sink (the invite-link email).</summary>
    public const string Smtp = "smtp";
    /// <summary>Cloudflare Turnstile's siteverify (the optional CAPTCHA).</summary>
    public const string Turnstile = "turnstile";

    /// <summary>The canonical name, or null when <paramref name="name"/> is neither API.</summary>
    public static string? Normalize(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        Slack => Slack,
        ActiveCampaign => ActiveCampaign,
        Smtp => Smtp,
        Turnstile => Turnstile,
        _ => null,
    };
}
