using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Abuse;
using Joinery.Tests.Support;
using MassTransit.Testing;

namespace Joinery.Tests.Gateway;

public sealed class Posting_too_many_signups : IDisposable
{
    const string Crowded = "203.0.113.10";
    const string Elsewhere = "198.51.100.20";

    readonly GatewayApiFactory _factory = new()
    {
        Settings =
        {
            ["RateLimiting:PerIpLimit"] = "3",
            ["RateLimiting:PerIpWindow"] = "00:10:00",
            ["RateLimiting:PerEmailLimit"] = "2",
            ["RateLimiting:PerEmailWindow"] = "01:00:00",
        },
    };

    public void Dispose() => _factory.Dispose();

    static object Signup(string email) => new { name = "Ada Lovelace", email, consent = true };

    static string UniqueEmail() => $"ada.{Guid.NewGuid():N}@example.com";

    int PublishedFor(string email) =>
        _factory.Harness.Published.Select<SignupRequested>().Count(x => x.Context.Message.NormalizedEmail == email);

    static async Task AssertTooManyRequests(HttpResponseMessage response, TimeSpan window, string mentions)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } wait && wait > TimeSpan.Zero && wait <= window,
            $"Retry-After should be a positive number of seconds within the window, was {response.Headers.RetryAfter}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains(mentions, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Should_refuse_one_ip_address_over_its_limit_with_429_and_retry_after_and_publish_nothing()
    {
        var client = _factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var accepted = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(UniqueEmail()), Crowded));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var refusedEmail = UniqueEmail();
        using var refused = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(refusedEmail), Crowded));
        await AssertTooManyRequests(refused, TimeSpan.FromMinutes(10), "network");
        Assert.Equal(0, PublishedFor(refusedEmail));

        // Another visitor is not held back by the first one.
        var otherEmail = UniqueEmail();
        using var other = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(otherEmail), Elsewhere));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
        Assert.Equal(1, PublishedFor(otherEmail));
    }

    [Fact]
    public async Task Should_count_invalid_posts_against_the_ip_address_too()
    {
        var client = _factory.CreateClient();
        const string address = "203.0.113.11";
        for (var i = 0; i < 3; i++)
        {
            using var invalid = await client.SendAsync(TestClientAddress.Post("/api/signups", new { name = "", email = "nope" }, address));
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        using var refused = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(UniqueEmail()), address));
        await AssertTooManyRequests(refused, TimeSpan.FromMinutes(10), "network");
    }

    [Fact]
    public async Task Should_refuse_one_email_address_over_its_limit_from_any_ip_address()
    {
        var client = _factory.CreateClient();
        var email = UniqueEmail();
        using var first = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(email), "192.0.2.1"));
        using var second = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(email.ToUpperInvariant()), "192.0.2.2"));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);

        using var third = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(email), "192.0.2.3"));
        await AssertTooManyRequests(third, TimeSpan.FromHours(1), "email");
        Assert.Equal(1, PublishedFor(email)); // the first one only: the second was the same live signup

        using var other = await client.SendAsync(TestClientAddress.Post("/api/signups", Signup(UniqueEmail()), "192.0.2.3"));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
    }
}

/// <summary>The gateway keeps and logs a visitor's address only as a salted hash (Abuse/VisitorAddress).</summary>
public sealed class Keeping_visitor_addresses_only_as_salted_hashes
{
    static string KeyOf(VisitorAddress addresses, string ip)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(ip);
        return addresses.PartitionKey(context);
    }

    [Fact]
    public void Should_key_the_same_address_alike_and_never_by_the_address_itself()
    {
        var addresses = new VisitorAddress("pepper-1");
        var key = KeyOf(addresses, "203.0.113.10");

        Assert.Equal(key, KeyOf(addresses, "203.0.113.10"));
        Assert.NotEqual(key, KeyOf(addresses, "203.0.113.11"));
        Assert.DoesNotContain("203.0.113", key);
        Assert.Matches("^[0-9a-f]{32}$", key);
        // Not a plain hash either: without the salt, hashing every IPv4 address would undo it.
        var unsalted = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("203.0.113.10")));
        Assert.DoesNotContain(key, unsalted);
    }

    [Fact]
    public void Should_key_differently_under_another_salt_or_a_random_one()
    {
        var key = KeyOf(new VisitorAddress("pepper-1"), "2001:db8::1");
        Assert.NotEqual(key, KeyOf(new VisitorAddress("pepper-2"), "2001:db8::1"));
        Assert.NotEqual(KeyOf(new VisitorAddress(null), "2001:db8::1"), KeyOf(new VisitorAddress(null), "2001:db8::1"));
    }

    [Fact]
    public async Task Should_refuse_with_429_and_log_the_client_by_its_hash_only()
    {
        const string address = "203.0.113.77";
        var logs = new Joinery.Tests.SlackInvite.CapturedLogs();
        using var factory = new GatewayApiFactory
        {
            Settings = { ["RateLimiting:PerIpLimit"] = "1", [VisitorAddress.SaltKey] = "pepper-3" },
            TestServices = logs.AddTo,
        };
        var client = factory.CreateClient();
        using (await client.SendAsync(TestClientAddress.Post("/api/signups", new { name = "Ada", email = "ada.hash@example.org", consent = true }, address))) { }

        using var refused = await client.SendAsync(TestClientAddress.Post("/api/signups", new { name = "Ada", email = "ada.hash2@example.org", consent = true }, address));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var expectedKey = KeyOf(new VisitorAddress("pepper-3"), address);
        Assert.Contains(logs.Lines, l => l.Contains("too many from client") && l.Contains(expectedKey));
        Assert.DoesNotContain(address, logs.All);
    }
}
