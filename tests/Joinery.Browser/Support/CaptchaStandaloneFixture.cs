using Joinery.FakeApis;

namespace Joinery.Browser.Support;

[CollectionDefinition(Name)]
public sealed class CaptchaStandaloneCollection : ICollectionFixture<CaptchaStandaloneFixture>
{
    public const string Name = "standalone with a captcha in a browser";
}

/// <summary>
/// The standalone host as <see cref="StandaloneFixture"/>, with the Turnstile CAPTCHA on: its tokens are verified by the
/// fake siteverify of the fake APIs. The widget's script (Cloudflare's, out of reach here) is served by the tests
/// through Playwright's routing, at its real address, so the page's policy is exercised as it would be.
/// </summary>
public sealed class CaptchaStandaloneFixture : StandaloneFixture
{
    /// <summary>Cloudflare's test site key "always passes, visible".</summary>
    public const string SiteKey = "1x00000000000000000000AA";

    public const string WidgetScriptUrl = "https://challenges.cloudflare.com/turnstile/v0/api.js";

    protected override void Configure(Dictionary<string, string> settings)
    {
        settings["Captcha__SiteKey"] = SiteKey;
        settings["Captcha__SecretKey"] = FakeApiOptions.DefaultTurnstileSecret;
        settings["Captcha__VerifyUrl"] = new Uri(Fake.BaseUri, "turnstile/v0/siteverify").ToString();
    }

    protected override string LogName => "browser-standalone-captcha.log";
}
