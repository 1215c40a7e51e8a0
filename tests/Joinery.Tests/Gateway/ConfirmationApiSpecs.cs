using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Joinery.Contracts;
using Joinery.FakeApis;
using Joinery.Tests.Support;
using MassTransit.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>
/// Double opt-in through the real gateway: its API, saga and mailer, the mail handed over SMTP to the fake APIs' sink,
/// the link read back from that mail. Only the broker is MassTransit's test harness.
/// </summary>
public sealed partial class Confirming_the_email_address : IAsyncLifetime
{
    const string PublicBaseUrl = "https://join.example.org";
    FakeApiServer _fake = null!;
    GatewayApiFactory _factory = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeApiServer.StartAsync();
        _factory = Factory();
        _client = _factory.CreateClient();
    }

    GatewayApiFactory Factory() => new()
    {
        Settings =
        {
            ["Signup:ConfirmEmail"] = "true",
            ["Signup:PublicBaseUrl"] = PublicBaseUrl + "/",
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _fake.SmtpPort.ToString(),
            ["Smtp:Security"] = "None",
            ["Smtp:From"] = "Joinery <joinery@example.org>",
        },
    };

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _fake.DisposeAsync();
    }

    static string UniqueEmail() => $"ada.{Guid.NewGuid():N}@example.com";

    ITestHarness Harness => _factory.Harness;

    int Published<T>(Func<T, bool> filter) where T : class =>
        Harness.Published.Select<T>(new CancellationToken(true)).Count(m => filter(m.Context.Message));

    async Task<Guid> SignUp(string email, HttpClient? client = null)
    {
        var response = await (client ?? _client).PostAsJsonAsync("/api/signups", new { name = "Ada Lovelace", email, consent = true });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    async Task<string?> Status(Guid id, HttpClient? client = null) =>
        (await (client ?? _client).GetFromJsonAsync<JsonElement>($"/api/signups/{id}")).GetProperty("status").GetString();

    /// <summary>The link of the (only) mail the sink received for <paramref name="email"/>.</summary>
    async Task<Uri> LinkMailedTo(string email)
    {
        var mail = await Eventually.Get(() => Task.FromResult(_fake.State.Mails.Where(m => m.To.Contains(email)).ToList()),
            mails => mails.Count > 0, what: $"a mail to {email}");
        var found = MailedLink().Match(Assert.Single(mail).Text);
        Assert.True(found.Success, "the mail has no confirmation link: " + mail[0].Text);
        return new Uri(found.Value);
    }

    /// <summary>The id from the query; the token from the fragment (which a browser never sends to the server).</summary>
    static (Guid Id, string Token) Parse(Uri link)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query);
        var fragment = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Fragment.TrimStart('#'));
        return (Guid.Parse(query["id"]!), fragment["token"].ToString());
    }

    Task<HttpResponseMessage> Confirm(Guid id, string token, HttpClient? client = null) =>
        (client ?? _client).PostAsJsonAsync($"/api/signups/{id}/confirm", new { token });

    [GeneratedRegex(@"https://join\.example\.org/confirm\?\S+")]
    private static partial Regex MailedLink();

    [Fact]
    public async Task Should_start_the_steps_only_once_the_mailed_link_is_confirmed()
    {
        var email = UniqueEmail();
        var id = await SignUp(email);

        var link = await LinkMailedTo(email);
        Assert.Equal(id, Parse(link).Id);
        Assert.Equal("AwaitingConfirmation", await Status(id));
        Assert.Equal(1, Published<SignupConfirmationRequested>(m => m.SignupId == id));
        Assert.Equal(0, Published<SignupRequested>(m => m.SignupId == id)); // what store and crm-sync consume: nothing yet
        // The mailer reports the mail the server took, naming it by its token's hash (never the token), and the saga takes it.
        var tokenHash = Joinery.Gateway.Confirmation.ConfirmationTokens.Hash(Parse(link).Token);
        await Eventually.True(() => Harness.Consumed.Select<ConfirmationMailSent>(new CancellationToken(true))
            .Any(m => m.Context.Message.SignupId == id), what: "the mail reported sent to the saga");
        Assert.Equal([tokenHash], Harness.Published.Select<ConfirmationMailSent>(new CancellationToken(true))
            .Where(m => m.Context.Message.SignupId == id).Select(m => m.Context.Message.TokenHash));

        // Following the link (as a mail scanner would; the fragment stays behind) shows the page and confirms nothing.
        Assert.DoesNotContain(Parse(link).Token, link.PathAndQuery);
        var page = await _client.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Confirm my address", html);
        Assert.DoesNotContain(Parse(link).Token, html);
        Assert.DoesNotContain("<script>", html); // no inline script: only the data block and /confirm.js
        Assert.Equal("AwaitingConfirmation", await Status(id));
        Assert.Equal(0, Published<EmailConfirmed>(m => m.SignupId == id));

        var confirmed = await Confirm(id, Parse(link).Token);
        Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);

        Assert.True(await Harness.Published.Any<SignupRequested>(m => m.Context.Message.SignupId == id), "the saga publishes SignupRequested");
        var request = Harness.Published.Select<SignupRequested>().Single(m => m.Context.Message.SignupId == id).Context.Message;
        Assert.Equal(email, request.NormalizedEmail);
        await Eventually.True(async () => await Status(id) == "Processing", what: "Processing");

        // Twice is harmless: said so, nothing published again.
        var again = await Confirm(id, Parse(link).Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("alreadyConfirmed").GetBoolean());
        Assert.Equal(1, Published<EmailConfirmed>(m => m.SignupId == id));
        Assert.Equal(1, Published<SignupRequested>(m => m.SignupId == id));
    }

    [Fact]
    public async Task Should_refuse_a_wrong_token_and_publish_nothing()
    {
        var email = UniqueEmail();
        var id = await SignUp(email);
        var (_, token) = Parse(await LinkMailedTo(email));

        var wrong = await Confirm(id, token[..^2] + (token.EndsWith("AA") ? "BB" : "AA"));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid-link", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var missing = await _client.PostAsJsonAsync($"/api/signups/{id}/confirm", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var malformed = await _client.PostAsync($"/api/signups/{id}/confirm", new StringContent("{\"token\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var form = await _client.PostAsync($"/api/signups/{id}/confirm", new FormUrlEncodedContent([new("token", token)]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        var huge = await _client.PostAsJsonAsync($"/api/signups/{id}/confirm", new { token = new string('a', 4000) });
        // 413 under Kestrel, which enforces the size limit; the in-memory test server does not, and the token is refused.
        Assert.Contains(huge.StatusCode, new[] { HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.BadRequest });
        Assert.Equal("application/problem+json", huge.Content.Headers.ContentType?.MediaType);
        var unknown = await Confirm(Guid.NewGuid(), token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        // Another signup's token does not confirm this one.
        var other = UniqueEmail();
        var otherId = await SignUp(other);
        await LinkMailedTo(other);
        Assert.Equal(HttpStatusCode.BadRequest, (await Confirm(otherId, token)).StatusCode);

        Assert.Equal(0, Published<EmailConfirmed>(m => m.SignupId == id || m.SignupId == otherId));
        Assert.Equal("AwaitingConfirmation", await Status(id));
    }

    [Fact]
    public async Task Should_answer_a_second_submission_with_the_same_signup_and_no_second_mail_right_away()
    {
        var email = UniqueEmail();
        var id = await SignUp(email);
        await LinkMailedTo(email);

        var response = await _client.PostAsJsonAsync("/api/signups", new { name = "Ada Lovelace", email, consent = true });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(id, body.GetProperty("id").GetGuid());
        Assert.Equal("AwaitingConfirmation", body.GetProperty("status").GetString());
        // The saga is asked again and declines within the re-send interval: one mail command, one mail.
        await Eventually.True(() => Harness.Consumed.Select<SignupConfirmationRequested>(new CancellationToken(true))
            .Count(m => m.Context.Message.SignupId == id) >= 2, what: "the second request handled");
        Assert.Equal(1, Harness.Sent.Select<SendConfirmationMail>(new CancellationToken(true)).Count(m => m.Context.Message.SignupId == id));
        Assert.Single(_fake.State.Mails, m => m.To.Contains(email));
    }

    [Fact]
    public async Task Should_fail_the_signup_when_the_mail_server_refuses_the_address()
    {
        var email = UniqueEmail();
        _fake.State.AddFailure(FakeFailure.Create(FakeApiNames.Smtp, email));

        var id = await SignUp(email);

        await Eventually.True(async () => await Status(id) == "Failed", what: "Failed");
        var status = await _client.GetFromJsonAsync<JsonElement>($"/api/signups/{id}");
        Assert.Equal("confirmation:mail_failed", status.GetProperty("reason").GetString());
        Assert.Equal(0, Published<SignupRequested>(m => m.SignupId == id));
        Assert.Equal(0, Published<ConfirmationMailSent>(m => m.SignupId == id)); // refused: never reported sent
    }

    [Fact]
    public async Task Should_refuse_an_expired_link_and_publish_nothing()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        using var timed = _factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        var client = timed.CreateClient();
        var email = UniqueEmail();
        var id = await SignUp(email, client);
        var (_, token) = Parse(await LinkMailedTo(email));

        clock.Advance(TimeSpan.FromHours(49)); // past the default 48-hour confirmation deadline
        var expired = await Confirm(id, token, client);

        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Equal("expired", (await expired.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var harness = timed.Services.GetRequiredService<ITestHarness>();
        Assert.Equal(0, harness.Published.Select<EmailConfirmed>(new CancellationToken(true)).Count(m => m.Context.Message.SignupId == id));
    }

    [Fact]
    public async Task Should_never_write_the_token_to_any_log()
    {
        var logs = new Joinery.Tests.SlackInvite.CapturedLogs();
        using var logged = _factory.WithWebHostBuilder(b => b.ConfigureTestServices(logs.AddTo));
        var client = logged.CreateClient();
        var email = UniqueEmail();
        var id = await SignUp(email, client);
        var link = await LinkMailedTo(email);
        var (_, token) = Parse(link);

        await client.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, (await Confirm(id, token + "x", client)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Confirm(id, token, client)).StatusCode);
        var harness = logged.Services.GetRequiredService<ITestHarness>();
        Assert.True(await harness.Published.Any<SignupRequested>(m => m.Context.Message.SignupId == id));

        Assert.Contains(logs.Lines, l => l.Contains("Mailed the confirmation link") && l.Contains(id.ToString()));
        Assert.Contains(logs.Lines, l => l.Contains("/confirm?id=")); // the request log saw the link, without its fragment
        Assert.DoesNotContain(token, logs.All);
    }

    [Fact]
    public async Task Should_show_the_confirmation_page_in_french_escaped()
    {
        var response = await _client.GetAsync("/confirm?lang=fr&id=x&token=%3Cscript%3E");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Contains("Confirmer mon adresse", html);
        Assert.Contains("<html lang=\"fr\">", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }
}

/// <summary>Without <c>Signup:ConfirmEmail</c> nothing changes: the signup is requested at once, no mail.</summary>
public sealed class Signing_up_without_email_confirmation(GatewayApiFactory factory) : IClassFixture<GatewayApiFactory>
{
    [Fact]
    public async Task Should_publish_SignupRequested_and_ask_no_confirmation()
    {
        var client = factory.CreateClient();
        var email = $"ada.{Guid.NewGuid():N}@example.com";
        var response = await client.PostAsJsonAsync("/api/signups", new { name = "Ada Lovelace", email, consent = true });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        Assert.True(await factory.Harness.Published.Any<SignupRequested>(m => m.Context.Message.SignupId == id));
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupConfirmationRequested>(new CancellationToken(true)), m => m.Context.Message.SignupId == id);
    }
}

/// <summary>Double opt-in switched on without what it needs to mail a working link: the gateway does not start.</summary>
public sealed class Starting_with_email_confirmation_misconfigured
{
    [Fact]
    public void Should_refuse_to_start_naming_the_missing_settings()
    {
        using var factory = new GatewayApiFactory { Settings = { ["Signup:ConfirmEmail"] = "true", ["Smtp:Host"] = "mail.example.org" } };

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var message = error is AggregateException a ? a.Flatten().InnerExceptions[0].Message : error.Message;
        Assert.Contains("Signup:PublicBaseUrl", message);
        Assert.Contains("Smtp:From", message);
        Assert.DoesNotContain("Smtp:Host", message);
    }
}
