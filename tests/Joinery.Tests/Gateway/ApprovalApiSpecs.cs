using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Admin;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Joinery.Tests.Gateway;

/// <summary>
/// The gateway in memory with a test authentication scheme behind the <c>JoineryAdmin</c> policy: a request is an
/// admin when it carries <c>X-Test-Admin: name</c>, signed in without the admin role with <c>X-Test-User: name</c>.
/// </summary>
public sealed class ApprovalGatewayFactory : WebApplicationFactory<SignupStateMachine>
{
    public const string TestScheme = "ApprovalTest";
    readonly TempDirectory _directory = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Persistence:DataDirectory", _directory.Path);
        builder.UseSetting("Messaging:Transport", "InMemory");
        // An admin must be configured, or the admin side is off (404); the test scheme below stands in for its sign-in.
        builder.UseSetting("Admin:Username", "admin");
        builder.UseSetting("Admin:Password", "a password nobody types in these tests");
        builder.ConfigureTestServices(services =>
        {
            services.AddMassTransitTestHarness();
            services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(TestScheme, _ => { });
            services.AddAuthorizationBuilder().AddPolicy(ApprovalEndpoints.AdminPolicy, policy => policy
                .AddAuthenticationSchemes(TestScheme)
                .RequireAuthenticatedUser()
                .RequireRole("joinery-admin"));
        });
    }

    public ITestHarness Harness => Services.GetRequiredService<ITestHarness>();

    public HttpClient Admin(string name = "grace")
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Test-Admin", name);
        return client;
    }

    /// <summary>
    /// Drives a new signup through the real saga (on the harness's bus) to Inviting, or on to AwaitingApproval, and
    /// waits until the status API shows it there.
    /// </summary>
    public async Task<Guid> Seed(string state)
    {
        var id = Guid.NewGuid();
        var email = $"ada.{id:N}@example.com";
        await Harness.Bus.Publish(new SignupRequested(id, "Ada Lovelace", email, email, DateTimeOffset.UtcNow));
        await Harness.Bus.Publish(new SignupStored(id));
        await Harness.Bus.Publish(new ContactSynced(id, "42", Created: true, Skipped: false));
        if (state == "AwaitingApproval")
        {
            await Eventually.True(async () => await Status(id) == "Inviting", what: "Inviting");
            await Harness.Bus.Publish(new ApprovalRequested(id));
        }
        await Eventually.True(async () => await Status(id) == state, what: state);
        return id;
    }

    async Task<string?> Status(Guid id)
    {
        using var response = await CreateClient().GetAsync($"/api/signups/{id}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _directory.Dispose();
    }

    sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers.TryGetValue("X-Test-Admin", out var admin))
                return Task.FromResult(Success(admin.ToString(), "joinery-admin"));
            if (Request.Headers.TryGetValue("X-Test-User", out var user))
                return Task.FromResult(Success(user.ToString(), role: null));
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        AuthenticateResult Success(string name, string? role)
        {
            var claims = new List<Claim> { new(ClaimTypes.Name, name) };
            if (role is not null)
                claims.Add(new Claim(ClaimTypes.Role, role));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, TestScheme, ClaimTypes.Name, ClaimTypes.Role));
            return AuthenticateResult.Success(new AuthenticationTicket(principal, TestScheme));
        }
    }
}

public sealed class Approving_through_the_admin_api(ApprovalGatewayFactory factory) : IClassFixture<ApprovalGatewayFactory>
{
    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Approving_a_waiting_signup_publishes_the_decision_with_the_admins_name()
    {
        var id = await factory.Seed("AwaitingApproval");

        using var response = await factory.Admin("grace").PostAsync($"/api/admin/signups/{id}/approve", Json("{}"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Approved", body.GetProperty("decision").GetString());
        Assert.Equal($"/api/signups/{id}", body.GetProperty("statusUrl").GetString());
        Assert.True(await factory.Harness.Published.Any<SignupApproved>(x => x.Context.Message.SignupId == id && x.Context.Message.ApprovedBy == "grace"));
    }

    [Fact]
    public async Task Rejecting_carries_the_reason()
    {
        var id = await factory.Seed("AwaitingApproval");

        using var response = await factory.Admin().PostAsync($"/api/admin/signups/{id}/reject", Json("""{"reason":"  spam account  "}"""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(await factory.Harness.Published.Any<SignupRejected>(x =>
            x.Context.Message.SignupId == id && x.Context.Message.Reason == "spam account" && x.Context.Message.RejectedBy == "grace"));
    }

    [Fact]
    public async Task Rejecting_needs_no_reason()
    {
        var id = await factory.Seed("AwaitingApproval");

        using var response = await factory.Admin().PostAsync($"/api/admin/signups/{id}/reject", Json(""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(await factory.Harness.Published.Any<SignupRejected>(x => x.Context.Message.SignupId == id && x.Context.Message.Reason == null));
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    public async Task A_signup_that_is_not_waiting_is_a_conflict_and_nothing_is_published(string decision)
    {
        var id = await factory.Seed("Inviting");

        using var response = await factory.Admin().PostAsync($"/api/admin/signups/{id}/{decision}", Json("{}"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Inviting", problem.GetProperty("status").GetString());
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupApproved>(), x => x.Context.Message.SignupId == id);
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupRejected>(), x => x.Context.Message.SignupId == id);
    }

    [Fact]
    public async Task An_unknown_signup_is_not_found()
    {
        using var response = await factory.Admin().PostAsync($"/api/admin/signups/{Guid.NewGuid()}/approve", Json("{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_are_refused_and_nothing_is_published()
    {
        var id = await factory.Seed("AwaitingApproval");

        using var anonymous = await factory.CreateClient().PostAsync($"/api/admin/signups/{id}/approve", Json("{}"));
        var notAdmin = factory.CreateClient();
        notAdmin.DefaultRequestHeaders.Add("X-Test-User", "mallory");
        using var forbidden = await notAdmin.PostAsync($"/api/admin/signups/{id}/approve", Json("{}"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupApproved>(), x => x.Context.Message.SignupId == id);
    }

    [Fact]
    public async Task Only_json_is_taken_so_a_cross_site_form_cannot_approve()
    {
        var id = await factory.Seed("AwaitingApproval");

        using var form = await factory.Admin().PostAsync($"/api/admin/signups/{id}/approve",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["x"] = "1" }));
        using var plain = await factory.Admin().PostAsync($"/api/admin/signups/{id}/approve", new StringContent("{}", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupApproved>(), x => x.Context.Message.SignupId == id);
    }

    [Theory]
    [InlineData("""{"reason":42}""")]
    [InlineData("""{"reason":"line\nbreak"}""")]
    [InlineData("{not json")]
    public async Task A_bad_reason_is_refused(string body)
    {
        var id = await factory.Seed("AwaitingApproval");

        using var response = await factory.Admin().PostAsync($"/api/admin/signups/{id}/reject", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupRejected>(), x => x.Context.Message.SignupId == id);
    }

    [Fact]
    public async Task The_status_api_shows_a_waiting_signup_as_awaiting_approval()
    {
        var id = await factory.Seed("AwaitingApproval");

        var status = await factory.CreateClient().GetFromJsonAsync<JsonElement>($"/api/signups/{id}");

        Assert.Equal("AwaitingApproval", status.GetProperty("status").GetString());
        Assert.False(status.GetProperty("final").GetBoolean());
        Assert.Equal("AwaitingApproval", status.GetProperty("steps").GetProperty("slack").GetProperty("status").GetString());
    }
}
