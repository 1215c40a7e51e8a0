using System.Net;
using Joinery.Gateway.Admin;
using Joinery.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>The admin gateway with a small sign-in limit and client addresses the tests choose.</summary>
public sealed class AdminSignInLimitFactory : AdminGatewayFactory
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["RateLimiting:AdminSignInLimit"] = "3",
        ["RateLimiting:AdminSignInWindow"] = "00:15:00",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, TestClientAddress>());
    }
}

public sealed class Guessing_the_admin_password(AdminSignInLimitFactory factory) : IClassFixture<AdminSignInLimitFactory>
{
    async Task<HttpResponseMessage> SignIn(string address, string username, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = username, ["password"] = password }),
        };
        request.Headers.Add(TestClientAddress.Header, address);
        return await factory.Browser().SendAsync(request);
    }

    static bool SetsAdminCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(AdminAuthentication.CookieName));

    [Fact]
    public async Task Should_answer_429_with_retry_after_once_a_client_spent_its_wrong_sign_ins_even_for_the_right_password()
    {
        const string guesser = "203.0.113.50";
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SignIn(guesser, AdminGatewayFactory.Username, $"guess {i}");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var blocked = await SignIn(guesser, AdminGatewayFactory.Username, "guess 4");
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.True(blocked.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromMinutes(15),
            $"Retry-After: {blocked.Headers.RetryAfter}");
        Assert.Contains("Too many wrong sign-ins", await blocked.Content.ReadAsStringAsync());

        // The right password now tells the guesser nothing: the same answer, and no session.
        using var right = await SignIn(guesser, AdminGatewayFactory.Username, AdminGatewayFactory.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.False(SetsAdminCookie(right));
    }

    [Fact]
    public async Task Should_not_lock_the_admin_out_from_another_address()
    {
        const string guesser = "203.0.113.51";
        for (var i = 0; i < 4; i++)
            (await SignIn(guesser, AdminGatewayFactory.Username, $"guess {i}")).Dispose();

        using var admin = await SignIn("198.51.100.7", AdminGatewayFactory.Username, AdminGatewayFactory.Password);
        Assert.Equal(HttpStatusCode.SeeOther, admin.StatusCode);
        Assert.True(SetsAdminCookie(admin));
    }

    [Fact]
    public async Task Should_count_only_wrong_sign_ins()
    {
        const string admin = "203.0.113.52";
        for (var i = 0; i < 5; i++)
        {
            using var right = await SignIn(admin, AdminGatewayFactory.Username, AdminGatewayFactory.Password);
            Assert.Equal(HttpStatusCode.SeeOther, right.StatusCode);
        }
    }
}
