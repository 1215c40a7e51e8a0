using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Abuse;
using Joinery.Gateway.Page;
using MassTransit.Testing;

namespace Joinery.Tests.Gateway;

/// <summary>The rules themselves, domain by domain: exact domain or any subdomain, any case, never a mere suffix.</summary>
public sealed class Matching_email_domains
{
    [Theory]
    [InlineData("ada@spam.example", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@mail.spam.example", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@a.b.spam.example", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@notspam.example", null)]
    [InlineData("ada@spam.example.org", null)]
    [InlineData("ada@mailinator.com", EmailDomainPolicy.DisposableMessage)]
    [InlineData("ada@eu.mailinator.com", EmailDomainPolicy.DisposableMessage)]
    [InlineData("ada@example.org", null)]
    public void Should_refuse_a_denied_or_disposable_domain_and_its_subdomains_only(string normalizedEmail, string? expected)
    {
        var policy = new EmailDomainPolicy(allowed: [], denied: [" Spam.Example ", "@other.test"], blockDisposable: true);
        Assert.Equal(expected, policy.Refusal(normalizedEmail));
    }

    [Theory]
    [InlineData("ada@example.org", null)]
    [InlineData("ada@lists.example.org", null)]
    [InlineData("ada@example.com", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@badexample.org", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@mailinator.com", EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData("ada@yopmail.com", null)]
    [InlineData("ada@denied.example.org", EmailDomainPolicy.NotAcceptedMessage)]
    public void Should_take_only_allowed_domains_once_a_list_is_set_and_still_deny_within_them(string normalizedEmail, string? expected)
    {
        // An operator who allows a disposable provider by name means it; a denied subdomain of an allowed one stays denied.
        var policy = new EmailDomainPolicy(allowed: ["example.org", "YOPMAIL.com"], denied: ["denied.example.org"], blockDisposable: true);
        Assert.Equal(expected, policy.Refusal(normalizedEmail));
    }

    [Fact]
    public void Should_let_disposable_addresses_through_when_told_to()
    {
        Assert.Null(new EmailDomainPolicy([], [], blockDisposable: false).Refusal("ada@mailinator.com"));
    }

    [Fact]
    public void Should_ship_a_modest_list_of_well_formed_disposable_domains()
    {
        var domains = EmailDomainPolicy.DisposableDomains().ToList();
        Assert.InRange(domains.Count, 30, 500);
        Assert.All(domains, d => Assert.Matches("^[a-z0-9-]+(\\.[a-z0-9-]+)+$", d));
        Assert.Equal(domains.Count, domains.Distinct().Count());
        Assert.DoesNotContain("gmail.com", domains);
    }

    [Theory]
    [InlineData(EmailDomainPolicy.NotAcceptedMessage)]
    [InlineData(EmailDomainPolicy.DisposableMessage)]
    [InlineData(SignupScreening.CaptchaMissingMessage)]
    [InlineData(SignupScreening.CaptchaNotStringMessage)]
    [InlineData(SignupScreening.CaptchaRefusedMessage)]
    public void Every_new_refusal_has_a_french_translation(string message) =>
        Assert.NotEqual(message, PageTexts.Load().Translate("fr", message));
}

/// <summary>The API with domain lists configured: a refused domain is a 400 on <c>email</c>, never published.</summary>
public sealed class Signing_up_from_a_refused_email_domain : IDisposable
{
    readonly GatewayApiFactory _factory = new()
    {
        Settings =
        {
            ["Signup:DeniedEmailDomains"] = "spam.example, blocked.test",
            ["RateLimiting:PerIpLimit"] = "0",
        },
    };

    public void Dispose() => _factory.Dispose();

    static HttpRequestMessage Signup(string email, string language = "en")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/signups")
        {
            Content = JsonContent.Create(new { name = "Ada Lovelace", email, consent = true }),
        };
        request.Headers.TryAddWithoutValidation("Accept-Language", language);
        return request;
    }

    int Published(string email) =>
        _factory.Harness.Published.Select<SignupRequested>().Count(x => x.Context.Message.NormalizedEmail == email.ToLowerInvariant());

    static async Task<string> EmailError(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(problem.GetProperty("errors").GetProperty("email").EnumerateArray()).GetString()!;
    }

    [Theory]
    [InlineData("ada@spam.example")]
    [InlineData("Ada@Mail.SPAM.example")]
    [InlineData("ada@blocked.test")]
    public async Task Should_refuse_a_denied_domain_or_subdomain_and_publish_nothing(string email)
    {
        using var response = await _factory.CreateClient().SendAsync(Signup(email));
        Assert.Equal(EmailDomainPolicy.NotAcceptedMessage, await EmailError(response));
        Assert.Equal(0, Published(email));
    }

    [Fact]
    public async Task Should_refuse_a_disposable_address_by_default_in_the_visitor_s_language()
    {
        const string email = "ada@yopmail.com";
        using var english = await _factory.CreateClient().SendAsync(Signup(email));
        using var french = await _factory.CreateClient().SendAsync(Signup(email, "fr"));

        Assert.Equal(EmailDomainPolicy.DisposableMessage, await EmailError(english));
        Assert.Equal("Les adresses e-mail jetables ne sont pas acceptées.", await EmailError(french));
        Assert.Equal(0, Published(email));
    }

    [Fact]
    public async Task Should_accept_a_domain_that_merely_ends_like_a_denied_one()
    {
        var email = $"ada.{Guid.NewGuid():N}@notspam.example";
        using var response = await _factory.CreateClient().SendAsync(Signup(email));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, Published(email));
    }

    [Fact]
    public async Task Should_take_only_the_allowed_domains_when_a_list_is_set_and_disposable_ones_when_blocking_is_off()
    {
        using var factory = new GatewayApiFactory
        {
            Settings = { ["Signup:AllowedEmailDomains"] = "example.org", ["Signup:BlockDisposableEmail"] = "false" },
        };
        var client = factory.CreateClient();
        using var outsider = await client.SendAsync(Signup("ada@example.com"));
        using var member = await client.SendAsync(Signup($"ada.{Guid.NewGuid():N}@lists.example.org"));
        Assert.Equal(EmailDomainPolicy.NotAcceptedMessage, await EmailError(outsider));
        Assert.Equal(HttpStatusCode.Accepted, member.StatusCode);

        using var open = new GatewayApiFactory { Settings = { ["Signup:BlockDisposableEmail"] = "false" } };
        using var disposable = await open.CreateClient().SendAsync(Signup($"ada.{Guid.NewGuid():N}@mailinator.com"));
        Assert.Equal(HttpStatusCode.Accepted, disposable.StatusCode);
    }
}
