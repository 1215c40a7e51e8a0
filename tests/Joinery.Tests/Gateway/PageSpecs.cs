using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Api;
using Joinery.Gateway.Page;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

public sealed class Dropping_bots_with_the_honeypot(GatewayApiFactory factory) : IClassFixture<GatewayApiFactory>
{
    [Fact]
    public async Task Should_answer_a_filled_honeypot_like_a_signup_but_record_and_publish_nothing()
    {
        var client = factory.CreateClient();
        var email = $"bot.{Guid.NewGuid():N}@example.com";

        var response = await client.PostAsJsonAsync("/api/signups", new { name = "Bot", email, consent = true, website = "https://spam.example" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Accepted", body.GetProperty("status").GetString());
        Assert.StartsWith("/api/signups/", body.GetProperty("statusUrl").GetString());

        // A real signup published after it is seen, so the bot's would have been seen too.
        var real = $"person.{Guid.NewGuid():N}@example.com";
        var ok = await client.PostAsJsonAsync("/api/signups", new { name = "Person", email = real, consent = true, website = "" });
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        Assert.True(await factory.Harness.Published.Any<SignupRequested>(x => x.Context.Message.NormalizedEmail == real));
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupRequested>(), x => x.Context.Message.NormalizedEmail == email);
        // Nothing was recorded either: the id it was given leads nowhere.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(body.GetProperty("statusUrl").GetString())).StatusCode);
    }

    [Fact]
    public async Task Should_still_report_invalid_fields_when_the_honeypot_is_filled()
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/api/signups", new { name = "", email = "nope", consent = true, website = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Should_serve_the_honeypot_hidden_from_people()
    {
        var html = await factory.CreateClient().GetStringAsync("/");
        Assert.Contains("id=\"website\"", html);
        Assert.Contains("class=\"field honeypot\" aria-hidden=\"true\"", html);
        Assert.Contains("tabindex=\"-1\"", html);
    }
}

public sealed class Requiring_the_code_of_conduct(AdminGatewayFactory factory) : IClassFixture<AdminGatewayFactory>
{
    [Fact]
    public async Task Should_require_codeOfConduct_true_when_a_code_of_conduct_is_configured()
    {
        var client = factory.CreateClient();
        var email = $"coc.{Guid.NewGuid():N}@example.com";

        var missing = await client.PostAsJsonAsync("/api/signups", new { name = "Ada", email, consent = true });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var errors = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("You must accept the code of conduct to sign up.", errors.GetProperty("codeOfConduct")[0].GetString());

        var refused = await client.PostAsJsonAsync("/api/signups", new { name = "Ada", email, consent = true, codeOfConduct = false });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var accepted = await client.PostAsJsonAsync("/api/signups", new { name = "Ada", email, consent = true, codeOfConduct = true });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        var html = await client.GetStringAsync("/");
        Assert.Contains($"href=\"{AdminGatewayFactory.CodeOfConductUrl}\"", html);
        Assert.Contains("id=\"codeOfConduct\"", html);
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("//evil.example/coc")]
    [InlineData("ftp://example.org/coc")]
    public void Should_refuse_a_code_of_conduct_link_that_is_not_a_web_page(string url)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [SignupPageOptions.CodeOfConductUrlKey] = url }).Build();
        Assert.Throws<InvalidOperationException>(() => { SignupPageOptions.CodeOfConductUrl(configuration); });
    }
}

public sealed class Speaking_the_visitor_s_language(GatewayApiFactory factory) : IClassFixture<GatewayApiFactory>
{
    [Theory]
    [InlineData(null, "en")]
    [InlineData("fr-FR,fr;q=0.9,en;q=0.8", "fr")]
    [InlineData("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr")]
    [InlineData("fr;q=0,en", "en")]
    [InlineData("es", "en")]
    public async Task Should_pick_the_page_language_from_accept_language(string? header, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (header is not null)
            request.Headers.TryAddWithoutValidation("Accept-Language", header);
        var response = await factory.CreateClient().SendAsync(request);
        Assert.Contains($"<html lang=\"{expected}\">", await response.Content.ReadAsStringAsync());
        Assert.Contains("Accept-Language", response.Headers.Vary);
    }

    [Fact]
    public async Task Should_remember_the_language_switch_over_accept_language()
    {
        var client = factory.CreateClient();   // keeps cookies
        var switched = await client.GetAsync("/?lang=fr");
        Assert.Contains("<h1>Rejoindre la communauté</h1>", await switched.Content.ReadAsStringAsync());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept-Language", "en-GB,en");
        var again = await client.SendAsync(request);
        Assert.Contains("<html lang=\"fr\">", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Should_report_field_errors_in_french_when_asked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/signups")
        {
            Content = new StringContent("{\"name\":\"\",\"email\":\"ada@localhost\",\"consent\":false}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Accept-Language", "fr");
        var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("Le nom est obligatoire.", errors.GetProperty("name")[0].GetString());
        Assert.Equal("L’adresse e-mail n’est pas valide.", errors.GetProperty("email")[0].GetString());
        Assert.Equal("Vous devez accepter d’être contacté(e) pour vous inscrire.", errors.GetProperty("consent")[0].GetString());
    }

    [Fact]
    public async Task Should_escape_the_texts_it_puts_into_the_page()
    {
        var html = await factory.CreateClient().GetStringAsync("/?lang=fr");
        // The apostrophes of the French texts are typographic; anything HTML-special would be an entity, and the
        // JSON data block escapes '<' so nothing in it can end the block early.
        var block = html[html.IndexOf("id=\"texts\">", StringComparison.Ordinal)..html.IndexOf("</script>", StringComparison.Ordinal)];
        Assert.DoesNotContain("<", block[1..]);
        Assert.DoesNotContain("{{", html);
    }
}

public sealed class Keeping_every_text_in_both_languages
{
    static readonly PageTexts Texts = PageTexts.Load();

    [Fact]
    public void Every_text_exists_in_english_and_french()
    {
        var english = Texts.Keys("en").ToHashSet();
        var french = Texts.Keys("fr").ToHashSet();
        Assert.Empty(english.Except(french));
        Assert.Empty(french.Except(english));
        Assert.True(english.Count > 50, "the resources should hold the pages' texts");
    }

    [Theory]
    [InlineData("{\"name\": null, \"email\": null, \"consent\": null}")]
    [InlineData("{\"name\": 5, \"email\": 5, \"consent\": \"yes\"}")]
    [InlineData("{\"email\": \"not-an-email\"}")]
    [InlineData("{\"name\": \"\\u0007\", \"email\": \"\", \"consent\": false, \"codeOfConduct\": \"yes\"}")]
    [InlineData("{\"name\": \"   \", \"email\": \"a@example.com\", \"consent\": true, \"codeOfConduct\": false}")]
    [InlineData("[1]")]
    public void Every_message_the_validator_gives_has_a_french_translation(string json)
    {
        using var document = JsonDocument.Parse(json);
        var (_, errors) = SignupRequestValidator.Validate(document.RootElement, requireCodeOfConduct: true);
        Assert.NotEmpty(errors);
        foreach (var message in errors.Values.SelectMany(m => m))
            Assert.NotEqual(message, Texts.Translate("fr", message));
    }

    [Fact]
    public void A_name_too_long_is_translated_too()
    {
        using var document = JsonDocument.Parse($"{{\"name\": \"{new string('a', 101)}\", \"email\": \"a@example.com\", \"consent\": true}}");
        var (_, errors) = SignupRequestValidator.Validate(document.RootElement);
        var message = Assert.Single(errors["name"]);
        Assert.NotEqual(message, Texts.Translate("fr", message));
    }
}

public sealed class Counting_completed_signups(GatewayApiFactory factory) : IClassFixture<GatewayApiFactory>
{
    [Fact]
    public async Task Should_publish_the_count_as_json_and_as_a_badge_cached_for_a_minute()
    {
        var store = factory.Services.GetRequiredService<ISagaStore<SignupState>>();
        var client = factory.CreateClient();
        var before = (await client.GetFromJsonAsync<JsonElement>("/api/stats")).GetProperty("completedSignups").GetInt64();

        var stats = await client.GetAsync("/api/stats");
        Assert.Equal("public, max-age=60", stats.Headers.CacheControl?.ToString());

        var badge = await client.GetAsync("/badge.svg");
        Assert.Equal("image/svg+xml", badge.Content.Headers.ContentType?.MediaType);
        var svg = await badge.Content.ReadAsStringAsync();
        Assert.StartsWith("<svg", svg);
        Assert.Contains($"signups: {before}", svg);
        Assert.Equal("public, max-age=60", badge.Headers.CacheControl?.ToString());
        Assert.Contains("default-src 'none'", badge.Headers.GetValues("Content-Security-Policy").Single());

        // Within the minute a new completion is not counted yet (see the counter's own test for the expiry).
        await store.Insert(new SignupState { CorrelationId = Guid.NewGuid(), CurrentState = "Completed", Requested = true });
        Assert.Equal(before, (await client.GetFromJsonAsync<JsonElement>("/api/stats")).GetProperty("completedSignups").GetInt64());
    }

    [Fact]
    public async Task Should_count_again_once_the_cached_count_expires()
    {
        using var directory = new TempDirectory();
        var store = new SqliteSagaStore<SignupState>(new SqliteDatabase(directory.File("gateway.db")));
        var clock = new ManualClock(DateTimeOffset.Parse("2026-11-25T10:00:00Z"));
        var counter = new CompletedSignups(store, clock);
        await store.Insert(new SignupState { CorrelationId = Guid.NewGuid(), CurrentState = "Completed" });
        await store.Insert(new SignupState { CorrelationId = Guid.NewGuid(), CurrentState = "Failed" });

        Assert.Equal(1, (await counter.Get()).Count);
        await store.Insert(new SignupState { CorrelationId = Guid.NewGuid(), CurrentState = "Completed" });
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(1, (await counter.Get()).Count);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await counter.Get()).Count);
    }

    [Fact]
    public void Should_escape_what_the_badge_shows()
    {
        var svg = Badge.Svg("<script>", "1 & 2");
        Assert.DoesNotContain("<script>", svg);
        Assert.Contains("&lt;script&gt;", svg);
        Assert.Contains("1 &amp; 2", svg);
    }

    sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        DateTimeOffset _now = now;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
