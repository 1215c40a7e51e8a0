namespace Joinery.Gateway.Abuse;

/// <summary>
/// The optional CAPTCHA, Cloudflare Turnstile: off unless both <see cref="SiteKey"/> (public, rendered in the page)
/// and <see cref="SecretKey"/> (private, sent only to the verifier, never logged) are set.
/// </summary>
public sealed class CaptchaOptions
{
    public const string Section = "Captcha";

    /// <summary>Turnstile's server-side validation endpoint.</summary>
    public const string TurnstileVerifyUrl = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

    /// <summary>The only origin the page then loads a script and a frame from (the widget).</summary>
    public const string TurnstileOrigin = "https://challenges.cloudflare.com";

    public const string TurnstileScript = TurnstileOrigin + "/turnstile/v0/api.js";

    public string? SiteKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Where tokens are verified; another URL only for tests (the fake APIs) or a proxy.</summary>
    public string VerifyUrl { get; set; } = TurnstileVerifyUrl;

    /// <summary>How long one verification may take before the signup is answered 503.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsEnabled => !string.IsNullOrWhiteSpace(SiteKey) && !string.IsNullOrWhiteSpace(SecretKey);

    /// <summary>Half a configuration is a mistake worth failing the start for: the page would show a widget nobody checks, or the reverse.</summary>
    public CaptchaOptions Validated()
    {
        if (string.IsNullOrWhiteSpace(SiteKey) != string.IsNullOrWhiteSpace(SecretKey))
            throw new InvalidOperationException($"Set both {Section}:SiteKey and {Section}:SecretKey to turn the CAPTCHA on, or neither.");
        if (!Uri.TryCreate(VerifyUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new InvalidOperationException($"{Section}:VerifyUrl must be an absolute http(s) URL.");
        return this;
    }
}
