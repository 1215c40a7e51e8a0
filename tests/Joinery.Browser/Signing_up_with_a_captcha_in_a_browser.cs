using System.Net.Http.Json;
using System.Text.Json;
using Joinery.Browser.Support;
using Joinery.FakeApis;
using Microsoft.Playwright;

namespace Joinery.Browser;

[Collection(CaptchaStandaloneCollection.Name)]
public sealed class Signing_up_with_a_captcha_in_a_browser(CaptchaStandaloneFixture fixture) : BrowserTest(fixture)
{
    /// <summary>
    /// Stands in for Cloudflare's widget script: once the page is parsed, it puts the token it was given in a hidden
    /// <c>cf-turnstile-response</c> input inside each <c>.cf-turnstile</c> element, as the real widget does once solved;
    /// <c>turnstile.reset</c> empties it (a spent token must be solved again) and counts the resets.
    /// </summary>
    async Task ServeWidget(IPage page, string token)
    {
        var script = $$"""
            (function () {
              window.__turnstileResets = 0;
              function render() {
                document.querySelectorAll('.cf-turnstile').forEach(function (el) {
                  var input = document.createElement('input');
                  input.type = 'hidden';
                  input.name = 'cf-turnstile-response';
                  input.value = {{JsonSerializer.Serialize(token)}};
                  el.appendChild(input);
                  el.setAttribute('data-rendered', 'true');
                });
              }
              window.turnstile = { reset: function () {
                window.__turnstileResets++;
                document.querySelectorAll('input[name="cf-turnstile-response"]').forEach(function (i) { i.value = ''; });
              } };
              if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', render); else render();
            })();
            """;
        await page.RouteAsync(CaptchaStandaloneFixture.WidgetScriptUrl, route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/javascript; charset=utf-8",
            Body = script,
        }));
    }

    /// <summary>A token from the fake Turnstile, as the real widget gets one from Cloudflare once the visitor passed.</summary>
    async Task<string> SolvedToken()
    {
        using var response = await Fixture.FakeControl.PostAsync("_fake/turnstile/tokens", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    IEnumerable<FakeRequest> Verifications() => Fixture.Fake.State.Requests.Snapshot().Where(r => r.Api == FakeApiNames.Turnstile);

    [Fact]
    public async Task A_visitor_who_passed_the_captcha_signs_up()
    {
        var page = await NewPage();
        await ServeWidget(page, await SolvedToken());
        await page.GotoAsync("/");
        // The page's policy let the widget's script in from Cloudflare's origin: the widget rendered.
        await Expect(page.Locator("#captchaToken")).ToHaveAttributeAsync("data-rendered", "true");
        await Expect(page.Locator("#captchaToken")).ToHaveAttributeAsync("data-sitekey", CaptchaStandaloneFixture.SiteKey);

        await SignUp(page, "Ada Lovelace", UniqueEmail("ada"));

        await Expect(page.Locator("#progress")).ToBeVisibleAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync(
            "You're in! Check your inbox: your invitation to our Slack workspace is on its way.");
        Assert.Contains(Verifications(), v => v.Error is null);
    }

    [Fact]
    public async Task A_refused_captcha_is_reported_inline_and_the_widget_is_reset()
    {
        var page = await NewPage();
        await ServeWidget(page, "0.forged-token");
        await page.GotoAsync("/");
        await Expect(page.Locator("#captchaToken")).ToHaveAttributeAsync("data-rendered", "true");

        await SignUp(page, "Ada Lovelace", UniqueEmail("ada"));

        await Expect(page.Locator("#captchaToken-error")).ToHaveTextAsync("The CAPTCHA check failed or expired. Please complete it again.");
        await Expect(page.Locator("#form-error")).ToHaveTextAsync("There is 1 problem with your signup: see below.");
        await Expect(page.Locator("#progress")).ToBeHiddenAsync();
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__turnstileResets"));
        Assert.Contains(Verifications(), v => v.Error == "invalid-input-response");
    }
}
