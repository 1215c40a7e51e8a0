using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Tests.Support;
using MassTransit.Testing;

namespace Joinery.Tests.Gateway;

public sealed class Submitting_a_signup_to_the_api : IClassFixture<GatewayApiFactory>
{
    readonly GatewayApiFactory _factory;
    readonly HttpClient _client;

    public Submitting_a_signup_to_the_api(GatewayApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    static string UniqueEmail() => $"ada.{Guid.NewGuid():N}@example.com";

    int PublishedFor(string normalizedEmail) =>
        _factory.Harness.Published.Select<SignupRequested>().Count(x => x.Context.Message.NormalizedEmail == normalizedEmail);

    [Fact]
    public async Task Should_accept_a_valid_signup_and_publish_it()
    {
        var email = UniqueEmail();
        var response = await _client.PostAsJsonAsync("/api/signups", new { name = "  Ada Lovelace ", email = $" {email.ToUpperInvariant()} ", consent = true });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal("Accepted", body.GetProperty("status").GetString());
        Assert.Equal($"/api/signups/{id}", body.GetProperty("statusUrl").GetString());
        Assert.Equal($"/api/signups/{id}", response.Headers.Location?.OriginalString);

        Assert.True(await _factory.Harness.Published.Any<SignupRequested>(x => x.Context.Message.SignupId == id));
        var published = _factory.Harness.Published.Select<SignupRequested>().Single(x => x.Context.Message.SignupId == id).Context.Message;
        Assert.Equal("Ada Lovelace", published.Name);
        Assert.Equal(email.ToUpperInvariant(), published.Email);
        Assert.Equal(email, published.NormalizedEmail);
    }

    [Fact]
    public async Task Should_report_each_bad_field_and_publish_nothing()
    {
        var response = await _client.PostAsJsonAsync("/api/signups", new { name = "   ", email = "not-an-email", consent = false });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("consent", out _));
        Assert.Equal(0, PublishedFor("not-an-email"));
    }

    [Theory]
    [InlineData("{\"name\": 5, \"email\": \"a@example.com\", \"consent\": true}", "name")]
    [InlineData("{\"name\": \"Ada\", \"email\": [\"a@example.com\"], \"consent\": true}", "email")]
    [InlineData("{\"name\": \"Ada\", \"email\": \"a@example.com\", \"consent\": \"yes\"}", "consent")]
    [InlineData("{\"name\": \"Ada\", \"email\": \"a@example.com\"}", "consent")]
    [InlineData("{\"name\": \"Ada\", \"email\": \"a@localhost\", \"consent\": true}", "email")]
    [InlineData("{\"name\": \"Ada\", \"email\": \"Ada <a@example.com>\", \"consent\": true}", "email")]
    [InlineData("{\"name\": \"Ada\\u0007\", \"email\": \"a@example.com\", \"consent\": true}", "name")]
    [InlineData("[1, 2]", "body")]
    public async Task Should_name_the_field_that_is_wrong(string json, string field)
    {
        var response = await _client.PostAsync("/api/signups", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"errors should name {field}: {errors}");
    }

    [Fact]
    public async Task Should_refuse_a_name_over_100_characters()
    {
        var response = await _client.PostAsJsonAsync("/api/signups", new { name = new string('a', 101), email = UniqueEmail(), consent = true });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        var ok = await _client.PostAsJsonAsync("/api/signups", new { name = new string('a', 100), email = UniqueEmail(), consent = true });
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
    }

    [Fact]
    public async Task Should_refuse_malformed_json_and_other_media_types()
    {
        var malformed = await _client.PostAsync("/api/signups", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);

        var form = await _client.PostAsync("/api/signups", new StringContent("name=Ada", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);

        var nested = string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100));
        var deep = await _client.PostAsync("/api/signups", new StringContent(nested, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, deep.StatusCode);
    }

    [Fact]
    public async Task Should_start_no_new_work_for_an_email_already_in_progress()
    {
        var email = UniqueEmail();
        var first = await _client.PostAsJsonAsync("/api/signups", new { name = "Ada", email, consent = true });
        var second = await _client.PostAsJsonAsync("/api/signups", new { name = "Ada L.", email = "  " + email.ToUpperInvariant() + " ", consent = true });

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var secondId = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(firstId, secondId);
        Assert.True(await _factory.Harness.Published.Any<SignupRequested>(x => x.Context.Message.SignupId == firstId));
        Assert.Equal(1, PublishedFor(email));
    }

    [Fact]
    public async Task Should_show_the_status_of_an_accepted_signup()
    {
        var response = await _client.PostAsJsonAsync("/api/signups", new { name = "Ada", email = UniqueEmail(), consent = true });
        var statusUrl = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("statusUrl").GetString()!;

        // No consumer runs here, so the saga takes the request and then waits on the store and CRM.
        var status = await Eventually.Get(async () => await _client.GetFromJsonAsync<JsonElement>(statusUrl),
            s => s.GetProperty("status").GetString() == "Processing", what: "the saga to take the request");
        Assert.Equal("Pending", status.GetProperty("steps").GetProperty("store").GetProperty("status").GetString());
        Assert.Equal("Pending", status.GetProperty("steps").GetProperty("crm").GetProperty("status").GetString());
        Assert.Equal("Pending", status.GetProperty("steps").GetProperty("slack").GetProperty("status").GetString());
        Assert.False(status.GetProperty("final").GetBoolean());
    }

    [Fact]
    public async Task Should_answer_404_for_an_unknown_id()
    {
        var response = await _client.GetAsync($"/api/signups/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Should_serve_the_page_with_a_strict_content_security_policy()
    {
        var response = await _client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<form id=\"signup\"", html);
        Assert.Contains("id=\"consent\"", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());

        var script = await _client.GetAsync("/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/signups", await script.Content.ReadAsStringAsync());
    }
}
