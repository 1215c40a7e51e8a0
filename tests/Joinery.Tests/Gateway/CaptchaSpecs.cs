using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.FakeApis;
using Joinery.Gateway.Abuse;
using Joinery.Gateway.Page;
using Joinery.Tests.SlackInvite;
using MassTransit.Testing;

namespace Joinery.Tests.Gateway;

/// <summary>
/// The gateway with the CAPTCHA on, verifying tokens against the fake Turnstile siteverify (tests/Joinery.FakeApis),
/// which hands out tokens as the widget would and spends each once, as Cloudflare does.
/// </summary>
public sealed class Signing_up_with_the_captcha_on : IAsyncLifetime
{
    const string Secret = "SECRET-turnstile-4242";
    const string SiteKey = "0x4AAAAAAA-test-site-key";

    readonly CapturedLogs _logs = new();
    FakeApiServer _fake = null!;
    GatewayApiFactory _gateway = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeApiServer.StartAsync("http://127.0.0.1:0", new Dictionary<string, string?> { ["FakeApis:TurnstileSecret"] = Secret });
        _gateway = Gateway(Secret, new Uri(_fake.BaseUri, "turnstile/v0/siteverify").ToString());
    }

    public async Task DisposeAsync()
    {
        _gateway.Dispose();
        await _fake.DisposeAsync();
    }

    GatewayApiFactory Gateway(string secret, string verifyUrl) => new()
    {
        Settings =
        {
            ["Captcha:SiteKey"] = SiteKey,
            ["Captcha:SecretKey"] = secret,
            ["Captcha:VerifyUrl"] = verifyUrl,
            ["Captcha:Timeout"] = "00:00:05",
            ["RateLimiting:PerIpLimit"] = "0",
        },
        TestServices = _logs.AddTo,
    };

    static string UniqueEmail() => $"ada.{Guid.NewGuid():N}@example.com";

    /// <summary>What the widget gives the browser.</summary>
    async Task<string> WidgetToken()
    {
        using var client = new HttpClient { BaseAddress = _fake.BaseUri };
        using var response = await client.PostAsync(TurnstileEndpoints.TokensPath.TrimStart('/'), null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    static Task<HttpResponseMessage> Post(HttpClient client, string email, object? token, bool withToken = true, string language = "en")
    {
        var body = new Dictionary<string, object?> { ["name"] = "Ada Lovelace", ["email"] = email, ["consent"] = true };
        if (withToken)
            body["captchaToken"] = token;
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/signups") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Accept-Language", language);
        return client.SendAsync(request);
    }

    int PublishedFor(GatewayApiFactory gateway, string email) =>
        gateway.Harness.Published.Select<SignupRequested>().Count(x => x.Context.Message.NormalizedEmail == email);

    IReadOnlyList<FakeRequest> Verifications() => _fake.State.Requests.Snapshot().Where(r => r.Api == FakeApiNames.Turnstile).ToList();

    static async Task<string> FieldError(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(problem.GetProperty("errors").GetProperty(field).EnumerateArray()).GetString()!;
    }

    [Fact]
    public async Task Should_accept_a_signup_with_a_fresh_token_and_refuse_the_same_token_a_second_time()
    {
        var client = _gateway.CreateClient();
        var token = await WidgetToken();
        var first = UniqueEmail();

        using var accepted = await Post(client, first, token);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(1, PublishedFor(_gateway, first));

        var second = UniqueEmail();
        using var reused = await Post(client, second, token);
        Assert.Equal(SignupScreening.CaptchaRefusedMessage, await FieldError(reused, SignupScreening.CaptchaField));
        Assert.Equal(0, PublishedFor(_gateway, second));
        Assert.Equal([null, "timeout-or-duplicate"], Verifications().Select(v => v.Error));
    }

    [Fact]
    public async Task Should_refuse_a_token_the_widget_never_gave_in_the_visitor_s_language()
    {
        var client = _gateway.CreateClient();
        var email = UniqueEmail();

        using var refused = await Post(client, email, "0.forged-token", language: "fr");

        Assert.Equal(PageTexts.Load().Translate("fr", SignupScreening.CaptchaRefusedMessage), await FieldError(refused, SignupScreening.CaptchaField));
        Assert.NotEqual(SignupScreening.CaptchaRefusedMessage, PageTexts.Load().Translate("fr", SignupScreening.CaptchaRefusedMessage));
        Assert.Equal(0, PublishedFor(_gateway, email));
        Assert.Equal("invalid-input-response", Assert.Single(Verifications()).Error);
    }

    public static TheoryData<string, object?, bool, string> Unusable => new()
    {
        { "no field", null, false, SignupScreening.CaptchaMissingMessage },
        { "null", null, true, SignupScreening.CaptchaMissingMessage },
        { "blank", "  ", true, SignupScreening.CaptchaMissingMessage },
        { "a number", 42, true, SignupScreening.CaptchaNotStringMessage },
        { "an object", new { token = "x" }, true, SignupScreening.CaptchaNotStringMessage },
        { "too long", new string('x', TurnstileVerifier.MaxTokenLength + 1), true, SignupScreening.CaptchaRefusedMessage },
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public async Task Should_refuse_a_missing_or_unusable_token_without_asking_the_verifier(string _, object? token, bool withToken, string expected)
    {
        var email = UniqueEmail();
        using var refused = await Post(_gateway.CreateClient(), email, token, withToken);

        Assert.Equal(expected, await FieldError(refused, SignupScreening.CaptchaField));
        Assert.Equal(0, PublishedFor(_gateway, email));
        Assert.Empty(Verifications());
    }

    [Fact]
    public async Task Should_check_the_fields_before_the_token_so_a_bad_form_costs_no_verification()
    {
        using var refused = await Post(_gateway.CreateClient(), "not-an-email", await WidgetToken());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Empty(Verifications());
    }

    [Fact]
    public async Task Should_answer_503_with_retry_after_and_publish_nothing_while_the_verifier_fails()
    {
        using var control = new HttpClient { BaseAddress = _fake.BaseUri };
        (await control.PostAsync("_fake/config", new StringContent("""{"errorRate":1,"apis":["turnstile"]}""", Encoding.UTF8, "application/json")))
            .EnsureSuccessStatusCode();
        var email = UniqueEmail();

        using var response = await Post(_gateway.CreateClient(), email, await WidgetToken());

        await AssertUnavailable(response);
        Assert.Equal(0, PublishedFor(_gateway, email));
        Assert.Equal(503, Assert.Single(Verifications()).Status);
    }

    [Fact]
    public async Task Should_answer_503_with_retry_after_and_publish_nothing_when_the_verifier_is_unreachable()
    {
        // A port nothing listens on: the connection is refused at once.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var gateway = Gateway(Secret, $"http://127.0.0.1:{closedPort}/turnstile/v0/siteverify");
        var email = UniqueEmail();

        using var response = await Post(gateway.CreateClient(), email, await WidgetToken());

        await AssertUnavailable(response);
        Assert.Equal(0, PublishedFor(gateway, email));
    }

    [Fact]
    public async Task Should_answer_503_rather_than_blame_the_visitor_when_our_secret_is_refused_and_never_log_the_secret()
    {
        const string wrongSecret = "SECRET-wrong-turnstile-1717";
        using var gateway = Gateway(wrongSecret, new Uri(_fake.BaseUri, "turnstile/v0/siteverify").ToString());
        var email = UniqueEmail();

        using var response = await Post(gateway.CreateClient(), email, await WidgetToken());

        await AssertUnavailable(response);
        Assert.Equal("invalid-input-secret", Assert.Single(Verifications()).Error);
        Assert.Contains(_logs.Lines, l => l.StartsWith("Error") && l.Contains("invalid-input-secret"));
        Assert.DoesNotContain(wrongSecret, _logs.All);
    }

    [Fact]
    public async Task Should_never_write_the_secret_or_a_token_to_the_logs()
    {
        var client = _gateway.CreateClient();
        var token = await WidgetToken();
        using (await Post(client, UniqueEmail(), token)) { }
        using (await Post(client, UniqueEmail(), token)) { }
        using (await Post(client, UniqueEmail(), "0.forged-token")) { }

        Assert.Equal(3, Verifications().Count); // the secret did go out, three times
        Assert.Contains(_logs.Lines, l => l.Contains("System.Net.Http.HttpClient"));
        Assert.DoesNotContain(Secret, _logs.All);
        Assert.DoesNotContain("SECRET", _logs.All);
        Assert.DoesNotContain(token, _logs.All);
    }

    [Fact]
    public async Task Should_render_the_widget_and_allow_exactly_its_origin_in_the_page_policy()
    {
        using var response = await _gateway.CreateClient().GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();

        Assert.Contains($"data-sitekey=\"{SiteKey}\"", html);
        Assert.Contains($"<script src=\"{CaptchaOptions.TurnstileScript}\" async defer></script>", html);
        Assert.Contains("script-src 'self' https://challenges.cloudflare.com;", policy);
        Assert.Contains("frame-src https://challenges.cloudflare.com;", policy);
        Assert.DoesNotContain(Secret, html);

        // Without a CAPTCHA the page loads nothing from Cloudflare, and its policy allows nothing from there.
        using var plain = new GatewayApiFactory();
        using var plainResponse = await plain.CreateClient().GetAsync("/");
        Assert.DoesNotContain("challenges.cloudflare.com", await plainResponse.Content.ReadAsStringAsync());
        Assert.DoesNotContain("cloudflare", plainResponse.Headers.GetValues("Content-Security-Policy").Single());
    }

    static async Task AssertUnavailable(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero, $"Retry-After: {response.Headers.RetryAfter}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("CAPTCHA", problem.GetProperty("detail").GetString());
    }
}

/// <summary>Half a CAPTCHA configuration stops the start rather than run with a widget nobody checks.</summary>
public sealed class Configuring_the_captcha
{
    [Theory]
    [InlineData("site-key", null)]
    [InlineData(null, "secret")]
    public void Should_refuse_a_site_key_without_a_secret_or_the_reverse(string? siteKey, string? secret) =>
        Assert.Throws<InvalidOperationException>(() => new CaptchaOptions { SiteKey = siteKey, SecretKey = secret }.Validated());

    [Fact]
    public void Should_be_off_without_both_keys_and_on_with_both()
    {
        Assert.False(new CaptchaOptions().Validated().IsEnabled);
        Assert.True(new CaptchaOptions { SiteKey = "k", SecretKey = "s" }.Validated().IsEnabled);
        Assert.Equal("https://challenges.cloudflare.com/turnstile/v0/siteverify", new CaptchaOptions().VerifyUrl);
    }
}
