using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;
using Joinery.Contracts;
using Joinery.FakeApis;
using Xunit.Abstractions;

namespace Joinery.Tests.Gateway;

/// <summary>
/// Thousands of generated bad requests: whatever arrives, the API answers a 4xx it documents, never a 5xx, and
/// publishes nothing. Every generated body is invalid by construction (a field missing, of the wrong type or
/// malformed, consent not true, or not JSON at all; or well-formed but from a refused email domain, or with a CAPTCHA
/// token that is missing, of the wrong type or not one the verifier gave), so a 202 is a failure too. The CAPTCHA is
/// on, verified by the fake Turnstile siteverify, so the screening's inputs are exercised as much as the validator's.
/// </summary>
public sealed class Sending_malformed_signups(ITestOutputHelper output) : IAsyncLifetime
{
    public const int Iterations = 3000;
    static readonly HttpStatusCode[] Allowed =
        [HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.UnsupportedMediaType, HttpStatusCode.TooManyRequests];

    FakeApiServer _fake = null!;
    GatewayApiFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeApiServer.StartAsync();
        // Every request comes from one client: the per-IP limit would answer most of them 429 and hide what the
        // validation does, so it is off here (RateLimitSpecs covers it).
        _factory = new GatewayApiFactory
        {
            Settings =
            {
                ["RateLimiting:PerIpLimit"] = "0",
                ["Signup:DeniedEmailDomains"] = "denied.example",
                ["Captcha:SiteKey"] = "fake-site-key",
                ["Captcha:SecretKey"] = FakeApiOptions.DefaultTurnstileSecret,
                ["Captcha:VerifyUrl"] = new Uri(_fake.BaseUri, "turnstile/v0/siteverify").ToString(),
            },
        };
    }

    public async Task DisposeAsync()
    {
        _factory.Dispose();
        await _fake.DisposeAsync();
    }

    static readonly string[] Nasty =
    [
        "<script>alert(1)</script>", "'; DROP TABLE signups; --", "\" OR 1=1 --", "${jndi:ldap://x}", "{{7*7}}", "../../etc/passwd",
        "\u0000", "\u202e\u0041\u0042", "\ud83d\ude00", "\u00e9\u0301", "a\r\nBcc: x@example.com", "\t", "", "   ", "\u200b",
        "null", "true", "[]", "{}", "0", "1e309", "%00", "<img src=x onerror=alert(1)>",
    ];

    static readonly Gen<string> Text = Gen.OneOf(Gen.String, Gen.String[0, 300], Gen.OneOf<string>(Nasty),
        Gen.Char.Array[0, 64].Select(c => new string(c)));

    /// <summary>A JSON value of a type no field accepts as valid input (for email and name: not a string).</summary>
    static readonly Gen<string> WrongType = Gen.OneOf<string>("5", "-1.5e10", "true", "false", "null", "[]", "{}", "[\"a@example.com\"]",
        "{\"email\":\"a@example.com\"}");

    static readonly Gen<string> BadEmail = Gen.OneOf(Text.Where(s => !s.Contains('@')), Gen.OneOf<string>(
        "a@b", "@example.com", "a@", "a@@example.com", "a b@example.com", "a@example..com", "<a@example.com>", "a@[127.0.0.1]",
        "a@example.com\u0000", "a@-", new string('a', 300) + "@example.com"));

    static string Json(string s) => JsonSerializer.Serialize(s);

    static readonly Gen<(string ContentType, string Body)> JsonBodies = Gen.OneOf(
        // Valid shape, one field broken.
        Gen.Select(Text, BadEmail, Gen.Bool, (name, email, consent) =>
            ("application/json", $"{{\"name\":{Json(name)},\"email\":{Json(email)},\"consent\":{(consent ? "true" : "false")}}}")),
        Gen.Select(Text, WrongType, (name, email) => ("application/json", $"{{\"name\":{Json(name)},\"email\":{email},\"consent\":true}}")),
        Gen.Select(WrongType, (name) => ("application/json", $"{{\"name\":{name},\"email\":\"ok@example.com\",\"consent\":true}}")),
        Gen.Select(Text, WrongType.Where(v => v != "true"), (name, consent) =>
            ("application/json", $"{{\"name\":{Json(name)},\"email\":\"ok@example.com\",\"consent\":{consent}}}")),
        Gen.Select(Text, (name) => ("application/json", $"{{\"name\":{Json(name)},\"email\":\"ok@example.com\"}}")),
        // Not an object, or not JSON at all, or cut short.
        Gen.Select(Text, text => ("application/json", text)),
        Gen.Select(Gen.Int[1, 400], Gen.Bool, (depth, arrays) => ("application/json", arrays
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
        Gen.Select(Text, Gen.Int[1, 40], (name, cut) =>
        {
            var full = $"{{\"name\":{Json(name)},\"email\":\"ok@example.com\",\"consent\":true}}";
            return ("application/json", full[..Math.Max(0, full.Length - cut)]);
        }),
        // Far too large.
        Gen.Select(Gen.Int[17_000, 200_000], size => ("application/json", $"{{\"name\":\"{new string('x', size)}\",\"email\":\"ok@example.com\",\"consent\":true}}")));

    /// <summary>The <c>captchaToken</c> member (with its comma), or none: never a token the widget gave.</summary>
    static readonly Gen<string> BadCaptcha = Gen.OneOf(
        Gen.Const(""),
        WrongType.Select(v => $",\"captchaToken\":{v}"),
        Text.Select(t => $",\"captchaToken\":{Json(t)}"),
        Gen.Int[2049, 20_000].Select(n => $",\"captchaToken\":\"{new string('t', n)}\""));

    /// <summary>Valid fields that the screening refuses: a refused domain (any token), or a good domain and a bad token.</summary>
    static readonly Gen<(string ContentType, string Body)> Screened = Gen.OneOf(
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.OneOf<string>("denied.example", "Mail.Denied.Example", "mailinator.com", "YOPMAIL.COM"), BadCaptcha,
            (n, domain, captcha) => ("application/json", $"{{\"name\":\"Ada\",\"email\":\"u{n}@{domain}\",\"consent\":true{captcha}}}")),
        Gen.Select(Gen.Int[0, int.MaxValue], BadCaptcha,
            (n, captcha) => ("application/json", $"{{\"name\":\"Ada\",\"email\":\"u{n}@example.org\",\"consent\":true{captcha}}}")));

    static readonly Gen<(string ContentType, string Body)> WrongMediaType = Gen.Select(
        Gen.OneOf<string>("text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png", ""),
        Text,
        (type, body) => (type, body));

    [Fact]
    public async Task Should_only_ever_answer_a_documented_4xx_and_publish_nothing()
    {
        var client = _factory.CreateClient();
        var answered = new System.Collections.Concurrent.ConcurrentDictionary<HttpStatusCode, int>();

        await Gen.Frequency((4, JsonBodies), (2, Screened), (1, WrongMediaType)).SampleAsync(async request =>
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.Body));
            if (request.ContentType.Length > 0)
                content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            using var response = await client.PostAsync("/api/signups", content);
            answered.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
            Assert.Contains(response.StatusCode, Allowed);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }, iter: Iterations, threads: 2, print: r => $"{r.ContentType}: {(r.Body.Length > 200 ? r.Body[..200] + "…" : r.Body)}");

        Assert.Equal(Iterations, answered.Values.Sum());
        Assert.Empty(_factory.Harness.Published.Select<SignupRequested>());
        var verified = _fake.State.Requests.Snapshot().Count(r => r.Api == FakeApiNames.Turnstile);
        Assert.True(verified > 0, "some bodies should have reached the CAPTCHA verifier");
        output.WriteLine($"{verified} of them reached the CAPTCHA verifier (all refused)");
        output.WriteLine($"{Iterations} malformed requests: " + string.Join(", ", answered.OrderBy(a => a.Key).Select(a => $"{(int)a.Key}×{a.Value}")));
    }
}
