using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Gateway.Admin;
using Joinery.Gateway.Saga;
using MassTransit.Testing;

namespace Joinery.Tests.Gateway;

public sealed class Signing_in_as_an_admin(AdminGatewayFactory factory) : IClassFixture<AdminGatewayFactory>
{
    static HttpContent Json() => new StringContent("{}", Encoding.UTF8, "application/json");

    static FormUrlEncodedContent Credentials(string username, string password) =>
        new(new Dictionary<string, string> { ["username"] = username, ["password"] = password });

    [Fact]
    public async Task Should_refuse_the_admin_api_to_anonymous_callers()
    {
        var client = factory.Browser();
        var id = Guid.NewGuid();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/admin/signups")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/admin/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync($"/api/admin/signups/{id}/retry", Json())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync($"/api/admin/signups/{id}/erase", Json())).StatusCode);
        // The approval endpoints sit behind the same policy.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync($"/api/admin/signups/{id}/approve", Json())).StatusCode);

        // The page itself is the sign-in form, and shows nothing else.
        var page = await client.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("action=\"/admin/login\"", html);
        Assert.DoesNotContain("admin.js", html);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
    }

    /// <summary>Every admin API endpoint, so that one added without the policy shows up here.</summary>
    public static TheoryData<string, string> AdminApi => new()
    {
        { "GET", "/api/admin/signups" },
        { "GET", "/api/admin/signups?state=Failed&email=a" },
        { "GET", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a" },
        { "POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/retry" },
        { "POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/erase" },
        { "POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/approve" },
        { "POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/reject" },
        { "GET", "/api/admin/audit" },
        { "GET", "/api/admin/errors" },
        { "POST", "/api/admin/errors/store_error/resend" },
        { "POST", "/api/admin/errors/store_error/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/resend" },
    };

    [Theory]
    [MemberData(nameof(AdminApi))]
    public async Task Should_answer_401_and_no_data_to_anonymous_callers_and_forged_cookies(string method, string path)
    {
        foreach (var cookie in new[] { null, $"{AdminAuthentication.CookieName}=forged-not-a-ticket", $"{AdminAuthentication.CookieName}=" })
        {
            var client = factory.Browser();
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json() : null };
            if (cookie is not null)
                request.Headers.Add("Cookie", cookie);
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Null(response.Headers.Location); // an API never redirects to a sign-in page
            Assert.DoesNotContain("@", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData(AdminGatewayFactory.Username, "wrong password")]
    [InlineData("someone-else", AdminGatewayFactory.Password)]
    [InlineData("", "")]
    public async Task Should_refuse_wrong_credentials_and_give_no_session(string username, string password)
    {
        var client = factory.Browser();
        var response = await client.PostAsync("/admin/login", Credentials(username, password));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(AdminAuthentication.CookieName)),
            "a refused sign-in must not set the admin cookie");
        Assert.Contains("Wrong username or password.", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/admin/signups")).StatusCode);
    }

    [Fact]
    public async Task Should_open_the_admin_side_to_the_configured_admin_and_close_it_on_sign_out()
    {
        var client = factory.Browser();
        var signIn = await client.PostAsync("/admin/login", Credentials(AdminGatewayFactory.Username, AdminGatewayFactory.Password));
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AdminAuthentication.CookieName));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/admin/signups")).StatusCode);
        var page = await (await client.GetAsync("/admin")).Content.ReadAsStringAsync();
        Assert.Contains("/admin/admin.js", page);

        Assert.Equal(HttpStatusCode.SeeOther, (await client.PostAsync("/admin/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/admin/signups")).StatusCode);
    }

    [Fact]
    public void Should_verify_a_pbkdf2_hash_and_refuse_a_malformed_one()
    {
        var hash = AdminPassword.Hash("s3cret!", iterations: 20_000);
        Assert.StartsWith("pbkdf2-sha256.20000.", hash);
        Assert.True(AdminPassword.Verify("s3cret!", hash));
        Assert.False(AdminPassword.Verify("s3cret", hash));
        Assert.NotEqual(hash, AdminPassword.Hash("s3cret!", iterations: 20_000));   // salted

        var credential = new AdminCredential("root", hash, password: null);
        Assert.True(credential.IsConfigured);
        Assert.True(credential.Verify("root", "s3cret!"));
        Assert.False(credential.Verify("root ", "wrong"));
        Assert.False(credential.Verify("admin", "s3cret!"));

        Assert.Throws<InvalidOperationException>(() => new AdminCredential("root", "sha1$abc", null));
        Assert.False(new AdminCredential("root", null, null).IsConfigured);
        Assert.False(new AdminCredential(null, null, "pw").IsConfigured);
    }
}

public sealed class Running_without_an_admin(NoAdminGatewayFactory factory) : IClassFixture<NoAdminGatewayFactory>
{
    [Theory]
    [InlineData("GET", "/admin")]
    [InlineData("GET", "/admin/admin.js")]
    [InlineData("POST", "/admin/login")]
    [InlineData("GET", "/api/admin/signups")]
    [InlineData("POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/retry")]
    [InlineData("POST", "/api/admin/signups/6f1c3e0a-8a8e-4a53-9f0e-0e6f3c1d2b4a/approve")]
    public async Task Should_answer_404_for_every_admin_path_rather_than_open_or_ask_to_sign_in(string method, string path)
    {
        var client = factory.Browser();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Should_still_serve_the_visitor_page()
    {
        var response = await factory.Browser().GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // No code of conduct configured: no checkbox for it.
        Assert.DoesNotContain("id=\"codeOfConduct\"", await response.Content.ReadAsStringAsync());
    }
}

public sealed class Administering_signups(AdminGatewayFactory factory) : IClassFixture<AdminGatewayFactory>
{
    static HttpContent Json() => new StringContent("{}", Encoding.UTF8, "application/json");

    static string UniqueEmail(string who = "grace") => $"{who}.{Guid.NewGuid():N}@example.com";

    static async Task<JsonElement> Body(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Should_list_signups_newest_first_and_search_them_by_state_and_email()
    {
        var client = await factory.SignedIn();
        var domain = $"{Guid.NewGuid():N}.example.com";
        var start = DateTimeOffset.Parse("2026-11-01T10:00:00Z");
        var older = await factory.Seed("Completed", $"ada@{domain}", createdAt: start);
        var failed = await factory.Seed("Failed", $"grace@{domain}", s => s.FailureReason = "slack:invalid_email", start.AddMinutes(1));
        var newer = await factory.Seed("Completed", $"alan@{domain}", createdAt: start.AddMinutes(2));

        var all = await Body(await client.GetAsync($"/api/admin/signups?email={domain.ToUpperInvariant()}"));
        Assert.Equal(3, all.GetProperty("total").GetInt64());
        Assert.Equal([newer.CorrelationId, failed.CorrelationId, older.CorrelationId],
            all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));

        var onlyFailed = await Body(await client.GetAsync($"/api/admin/signups?state=Failed&email={domain}"));
        var item = Assert.Single(onlyFailed.GetProperty("items").EnumerateArray());
        Assert.Equal(failed.CorrelationId, item.GetProperty("id").GetGuid());
        Assert.Equal("Grace Hopper", item.GetProperty("name").GetString());
        Assert.Equal($"grace@{domain}", item.GetProperty("email").GetString());
        Assert.Equal("slack:invalid_email", item.GetProperty("reason").GetString());
        Assert.Equal("Done", item.GetProperty("steps").GetProperty("crm").GetProperty("status").GetString());

        var page2 = await Body(await client.GetAsync($"/api/admin/signups?email={domain}&page=2&pageSize=2"));
        Assert.Equal([older.CorrelationId], page2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));

        var detail = await Body(await client.GetAsync($"/api/admin/signups/{failed.CorrelationId}"));
        Assert.Equal("Failed", detail.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Should_show_how_many_times_each_step_was_tried()
    {
        var client = await factory.SignedIn();
        var seeded = await factory.Seed("Failed", UniqueEmail(), s =>
        {
            s.StoreAttempts = 1;
            s.CrmAttempts = 2;
            s.SlackAttempts = 5;
            s.FailureReason = "slack:unavailable";
        });

        var detail = await Body(await client.GetAsync($"/api/admin/signups/{seeded.CorrelationId}"));

        var steps = detail.GetProperty("steps");
        Assert.Equal([1, 2, 5], new[] { "store", "crm", "slack" }.Select(step => steps.GetProperty(step).GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task Should_retry_a_failed_signup_as_a_new_signup_of_the_same_person()
    {
        var client = await factory.SignedIn();
        var email = UniqueEmail();
        var failed = await factory.Seed("Failed", email, s =>
        {
            s.CrmStatus = StepStatus.Failed;
            s.StoreStatus = StepStatus.Compensated;
            s.FailureReason = "activecampaign:422:email_invalid";
        });

        var response = await client.PostAsync($"/api/admin/signups/{failed.CorrelationId}/retry", Json());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var newId = (await Body(response)).GetProperty("id").GetGuid();
        Assert.NotEqual(failed.CorrelationId, newId);
        Assert.True(await factory.Harness.Published.Any<SignupRequested>(x => x.Context.Message.SignupId == newId));
        var published = factory.Harness.Published.Select<SignupRequested>().Single(x => x.Context.Message.SignupId == newId).Context.Message;
        Assert.Equal(("Grace Hopper", email, email), (published.Name, published.Email, published.NormalizedEmail));

        // The new signup is live now: a second retry of the old one starts nothing.
        var again = await client.PostAsync($"/api/admin/signups/{failed.CorrelationId}/retry", Json());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("live-signup", (await Body(again)).GetProperty("code").GetString());
        Assert.Equal(1, factory.Harness.Published.Select<SignupRequested>().Count(x => x.Context.Message.NormalizedEmail == email));

        var audit = await Body(await client.GetAsync("/api/admin/audit"));
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "retry"
            && e.GetProperty("signupId").GetGuid() == failed.CorrelationId && e.GetProperty("actor").GetString() == AdminGatewayFactory.Username);
    }

    [Fact]
    public async Task Should_refuse_to_retry_what_is_not_failed_or_is_still_being_undone()
    {
        var client = await factory.SignedIn();
        var completed = await factory.Seed("Completed", UniqueEmail());
        var undoing = await factory.Seed("Failed", UniqueEmail(), s => { s.StoreStatus = StepStatus.Compensating; s.CrmStatus = StepStatus.Failed; });

        var notFailed = await client.PostAsync($"/api/admin/signups/{completed.CorrelationId}/retry", Json());
        Assert.Equal(HttpStatusCode.Conflict, notFailed.StatusCode);
        Assert.Equal("not-failed", (await Body(notFailed)).GetProperty("code").GetString());

        var compensating = await client.PostAsync($"/api/admin/signups/{undoing.CorrelationId}/retry", Json());
        Assert.Equal(HttpStatusCode.Conflict, compensating.StatusCode);
        Assert.Equal("compensating", (await Body(compensating)).GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/admin/signups/{Guid.NewGuid()}/retry", Json())).StatusCode);
        // Not JSON: refused before anything happens (a cross-site form cannot send JSON).
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await client.PostAsync($"/api/admin/signups/{undoing.CorrelationId}/retry", new FormUrlEncodedContent([]))).StatusCode);
        Assert.DoesNotContain(factory.Harness.Published.Select<SignupRequested>(),
            x => x.Context.Message.NormalizedEmail == completed.NormalizedEmail || x.Context.Message.NormalizedEmail == undoing.NormalizedEmail);
    }

    [Fact]
    public async Task Should_erase_a_person_across_their_signups_and_keep_only_an_anonymous_audit_line()
    {
        var client = await factory.SignedIn();
        var email = UniqueEmail("erase");
        var earlier = await factory.Seed("Failed", email, s =>
        {
            s.StoreStatus = StepStatus.Compensated;
            s.CrmStatus = StepStatus.Compensated;
            s.CrmContactId = "41";
        }, DateTimeOffset.UtcNow.AddMinutes(-5));
        var latest = await factory.Seed("Completed", email, s => { s.CrmContactId = "42"; s.CrmCreated = true; });
        await factory.Ledger.Accept(new SignupRequested(latest.CorrelationId, "Grace Hopper", email, email, DateTimeOffset.UtcNow),
            _ => Task.FromResult(false));

        var response = await client.PostAsync($"/api/admin/signups/{latest.CorrelationId}/erase", Json());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // The store removes both records; the CRM deletes the one contact that still exists.
        Assert.True(await factory.Harness.Sent.Any<ErasePerson>(x => x.Context.Message.SignupId == latest.CorrelationId));
        Assert.True(await factory.Harness.Sent.Any<ErasePerson>(x => x.Context.Message.SignupId == earlier.CorrelationId));
        Assert.True(await factory.Harness.Sent.Any<DeleteContact>(x => x.Context.Message.ContactId == "42"));
        Assert.DoesNotContain(factory.Harness.Sent.Select<DeleteContact>(), x => x.Context.Message.ContactId == "41");

        foreach (var id in new[] { earlier.CorrelationId, latest.CorrelationId })
        {
            var saga = (await factory.Sagas.Load(id))!;
            Assert.Null(saga.Name);
            Assert.Null(saga.Email);
            Assert.Null(saga.NormalizedEmail);
            Assert.False(await factory.Ledger.Contains(id));
        }
        var listed = await Body(await client.GetAsync($"/api/admin/signups/{latest.CorrelationId}"));
        Assert.True(listed.GetProperty("erased").GetBoolean());
        Assert.Equal(0, (await Body(await client.GetAsync($"/api/admin/signups?email={email}"))).GetProperty("total").GetInt64());

        var audit = await client.GetStringAsync("/api/admin/audit");
        Assert.Contains("erase", audit);
        Assert.Contains(latest.CorrelationId.ToString(), audit);
        Assert.DoesNotContain(email, audit, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Grace", audit);

        // Erasing again finds no one left to erase.
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/admin/signups/{latest.CorrelationId}/erase", Json())).StatusCode);
    }

    [Fact]
    public async Task Should_not_erase_a_person_whose_signup_is_still_in_progress()
    {
        var client = await factory.SignedIn();
        var email = UniqueEmail("busy");
        await factory.Seed("Completed", email);
        var running = await factory.Seed("Inviting", email, s => s.SlackStatus = StepStatus.Running);

        var response = await client.PostAsync($"/api/admin/signups/{running.CorrelationId}/erase", Json());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("in-progress", (await Body(response)).GetProperty("code").GetString());
        Assert.Equal("Grace Hopper", (await factory.Sagas.Load(running.CorrelationId))!.Name);
        Assert.DoesNotContain(factory.Harness.Sent.Select<ErasePerson>(), x => x.Context.Message.SignupId == running.CorrelationId);
    }
}
