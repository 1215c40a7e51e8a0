using System.Net;
using System.Net.Http.Json;
using System.Text;
using Joinery.Gateway.Abuse;
using Joinery.Gateway.Page;
using Joinery.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Joinery.Tests.Gateway;

/// <summary>Every kind of answer the gateway gives carries the security headers, not only its pages.</summary>
public sealed class Answering_with_security_headers : IDisposable
{
    readonly GatewayApiFactory _gateway = new()
    {
        Settings =
        {
            ["Admin:Username"] = AdminGatewayFactory.Username,
            ["Admin:Password"] = AdminGatewayFactory.Password,
            ["RateLimiting:PerIpLimit"] = "2",
        },
    };

    readonly GatewayApiFactory _withoutAdmin = new();

    public void Dispose()
    {
        _gateway.Dispose();
        _withoutAdmin.Dispose();
    }

    static HttpContent Json(string json) => new StringContent(json, Encoding.UTF8, "application/json");

    const string ValidSignup = """{"name":"Ada Lovelace","email":"ada.headers@example.org","consent":true}""";

    /// <summary>What to ask, the status it gets, and whether it is a page (which keeps its own policy).</summary>
    public static TheoryData<string, HttpStatusCode, bool> Answers => new()
    {
        { "page", HttpStatusCode.OK, true },
        { "asset", HttpStatusCode.OK, true },
        { "api 202", HttpStatusCode.Accepted, false },
        { "api 400", HttpStatusCode.BadRequest, false },
        { "api 404", HttpStatusCode.NotFound, false },
        { "api 415", HttpStatusCode.UnsupportedMediaType, false },
        { "api 429", HttpStatusCode.TooManyRequests, false },
        { "stats", HttpStatusCode.OK, false },
        { "admin api 401", HttpStatusCode.Unauthorized, false },
        { "admin sign-in 401", HttpStatusCode.Unauthorized, true },
        { "admin sign-in redirect", HttpStatusCode.SeeOther, false },
        { "admin off 404", HttpStatusCode.NotFound, false },
        { "health", HttpStatusCode.OK, false },
        { "metrics", HttpStatusCode.OK, false },
        { "unknown path", HttpStatusCode.NotFound, false },
    };

    async Task<HttpResponseMessage> Ask(string what)
    {
        // One client address per case, so that only the 429 case meets the per-IP limit.
        var address = $"198.51.100.{Math.Abs(what.GetHashCode() % 200) + 1}";
        var client = (what == "admin off 404" ? _withoutAdmin : _gateway).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Add(TestClientAddress.Header, address);
        var signIn = (string password) => new FormUrlEncodedContent(new Dictionary<string, string>
            { ["username"] = AdminGatewayFactory.Username, ["password"] = password });
        switch (what)
        {
            case "page": return await client.GetAsync("/");
            case "asset": return await client.GetAsync("/app.js");
            case "api 202": return await client.PostAsync("/api/signups", Json(ValidSignup));
            case "api 400": return await client.PostAsync("/api/signups", Json("""{"name":""}"""));
            case "api 404": return await client.GetAsync($"/api/signups/{Guid.NewGuid()}");
            case "api 415": return await client.PostAsync("/api/signups", new StringContent(ValidSignup, Encoding.UTF8, "text/plain"));
            case "api 429":
                for (var i = 0; i < 2; i++)
                    (await client.PostAsync("/api/signups", Json("{}"))).Dispose();
                return await client.PostAsync("/api/signups", Json(ValidSignup));
            case "stats": return await client.GetAsync("/api/stats");
            case "admin api 401": return await client.GetAsync("/api/admin/signups");
            case "admin sign-in 401": return await client.PostAsync("/admin/login", signIn("wrong"));
            case "admin sign-in redirect": return await client.PostAsync("/admin/login", signIn(AdminGatewayFactory.Password));
            case "admin off 404": return await client.GetAsync("/api/admin/signups");
            case "health": return await client.GetAsync("/health/live");
            case "metrics": return await client.GetAsync("/metrics");
            default: return await client.GetAsync("/no/such/thing");
        }
    }

    static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(", ", content)
        : throw new Xunit.Sdk.XunitException($"{name} is missing from the {(int)response.StatusCode} answer");

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Should_carry_the_security_headers(string what, HttpStatusCode status, bool isPage)
    {
        using var response = await Ask(what);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("same-origin", Header(response, "Cross-Origin-Opener-Policy"));
        Assert.Equal("same-origin", Header(response, "Cross-Origin-Resource-Policy"));
        Assert.Equal(isPage ? PageEndpoints.ContentSecurityPolicy : SecurityHeaders.DefaultContentSecurityPolicy,
            Header(response, "Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", Header(response, "Content-Security-Policy"));
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS over plain HTTP means nothing and is not sent");
    }

    [Fact]
    public async Task Should_let_other_sites_embed_the_badge_but_nothing_run_in_it()
    {
        using var response = await _gateway.CreateClient().GetAsync("/badge.svg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cross-origin", Header(response, "Cross-Origin-Resource-Policy"));
        Assert.StartsWith("default-src 'none'", Header(response, "Content-Security-Policy"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task Should_add_strict_transport_security_over_https_only()
    {
        using var https = await _gateway.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost") })
            .GetAsync("/api/stats");
        Assert.Equal(SecurityHeaders.StrictTransportSecurity, Header(https, "Strict-Transport-Security"));
        Assert.Equal("nosniff", Header(https, "X-Content-Type-Options"));
    }
}
