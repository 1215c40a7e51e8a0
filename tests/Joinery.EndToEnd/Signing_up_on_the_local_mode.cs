using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd;

/// <summary>
/// The whole system as deployed locally: the gateway, store, crm-sync and slack-invite each in its own process on a
/// real RabbitMQ, with ActiveCampaign and Slack played by the fake API server.
/// </summary>
[Collection(LocalModeCollection.Name)]
public sealed class Signing_up_on_the_local_mode(LocalModeFixture local)
{
    static readonly TimeSpan CompensationDeadline = TimeSpan.FromSeconds(30);

    readonly GatewayClient _gateway = local.Gateway;
    readonly FakeApisClient _fake = local.Fake;

    [Fact]
    public async Task A_signup_is_accepted_and_reaches_Completed_with_every_step_done()
    {
        var email = GatewayClient.UniqueEmail("happy");

        using var response = await _gateway.Submit("Ada Lovelace", email);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        var id = json.RootElement.GetProperty("id").GetGuid();
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("status").GetString()));
        var statusUrl = json.RootElement.GetProperty("statusUrl").GetString();
        Assert.EndsWith($"/api/signups/{id}", statusUrl);
        Assert.NotNull(response.Headers.Location);
        Assert.EndsWith($"/api/signups/{id}", response.Headers.Location!.OriginalString);

        var final = await _gateway.WaitUntilFinal(id);

        Assert.True(final.Status == "Completed", $"expected Completed: {final}");
        Assert.Equal(id, final.Body.GetProperty("id").GetGuid());
        Assert.Equal("Done", final.Step("store"));
        Assert.Equal("Done", final.Step("crm"));
        Assert.Equal("Done", final.Step("slack"));
        var requests = await _fake.Requests(email);
        Assert.True(requests.Count(r => r.IsContactSync) == 1, FakeApisClient.Describe(requests));
        Assert.True(requests.Count(r => r.IsSlackInvite && r.Status == 200) == 1, FakeApisClient.Describe(requests));
    }

    [Fact]
    public async Task Several_signups_at_once_all_complete_with_exactly_one_invite_per_email()
    {
        var emails = Enumerable.Range(1, 10).Select(i => GatewayClient.UniqueEmail($"batch{i}")).ToList();

        var ids = await Task.WhenAll(emails.Select(e => _gateway.SignUp(e, "Grace Hopper")));
        Assert.Equal(ids.Length, ids.Distinct().Count());
        var finals = await Task.WhenAll(ids.Select(id => _gateway.WaitUntilFinal(id, TimeSpan.FromSeconds(60))));

        Assert.All(finals, f => Assert.True(f.Status == "Completed", $"expected Completed: {f}"));
        var all = await _fake.Requests();
        foreach (var email in emails)
        {
            var invites = all.Where(r => r.IsSlackInvite && string.Equals(r.Email, email, StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(invites.Count == 1, $"{email}: expected exactly one invite, got {FakeApisClient.Describe(invites)}");
        }
    }

    [Fact]
    public async Task A_permanent_Slack_failure_fails_the_signup_and_deletes_the_CRM_contact_it_created()
    {
        var email = GatewayClient.UniqueEmail("slackfail");
        await _fake.FailPermanently("slack", email, "invalid_email");

        var id = await _gateway.SignUp(email);
        var final = await _gateway.WaitUntilFinal(id);

        Assert.True(final.Status == "Failed", $"expected Failed: {final}");
        Assert.Contains("invalid_email", final.Reason ?? "");
        // Compensation runs after the failure is known: poll for the contact's deletion.
        var requests = await Eventually.Until(() => _fake.Requests(email),
            rs => rs.Any(r => r.IsContactDelete && r.Status == 200), CompensationDeadline,
            $"a DELETE of {email}'s CRM contact", FakeApisClient.Describe);
        Assert.True(requests.Count(r => r.IsContactSync) == 1, FakeApisClient.Describe(requests));
        await _gateway.WaitFor(id, s => s.Step("crm") == "Compensated", "has steps.crm.status Compensated", CompensationDeadline);
    }

    [Fact]
    public async Task A_permanent_CRM_failure_fails_the_signup_invites_nobody_and_marks_the_stored_record_failed()
    {
        var email = GatewayClient.UniqueEmail("crmfail");
        await _fake.FailPermanently("activecampaign", email, "email_invalid", 422);

        var id = await _gateway.SignUp(email);
        var final = await _gateway.WaitUntilFinal(id);

        Assert.True(final.Status == "Failed", $"expected Failed: {final}");
        Assert.False(string.IsNullOrWhiteSpace(final.Reason), $"a failed signup says why: {final}");
        var compensated = await _gateway.WaitFor(id, s => s.Step("store") == "Compensated",
            "has steps.store.status Compensated", CompensationDeadline);
        Assert.Equal("Failed", compensated.Status);
        var requests = await _fake.Requests(email);
        Assert.True(!requests.Any(r => r.IsSlackInvite), $"no invite expected: {FakeApisClient.Describe(requests)}");
        Assert.True(!requests.Any(r => r.IsContactDelete), $"no contact was created, so none deleted: {FakeApisClient.Describe(requests)}");
    }

    [Fact]
    public async Task Bad_input_is_rejected_with_a_problem_naming_each_field_and_starts_no_work()
    {
        using var response = await _gateway.Submit("", "not-an-email", consent: false);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var fields = json.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name.ToLowerInvariant()).ToList();
        Assert.Contains("name", fields);
        Assert.Contains("email", fields);
        Assert.Contains("consent", fields);

        // Had it been published, it would have reached the fake before a valid signup submitted after it completes.
        var sentinel = await _gateway.SignUp(GatewayClient.UniqueEmail("sentinel"));
        Assert.Equal("Completed", (await _gateway.WaitUntilFinal(sentinel)).Status);
        var requests = await _fake.Requests("not-an-email");
        Assert.True(requests.Count == 0, FakeApisClient.Describe(requests));
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_refused_413_by_Kestrel_and_starts_no_work()
    {
        // The in-process test server does not enforce the request size limit; the real server (Kestrel) must.
        var email = GatewayClient.UniqueEmail("oversized");
        using var response = await _gateway.Http.PostAsJsonAsync("/api/signups",
            new { name = new string('a', 20 * 1024), email, consent = true });
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        var sentinel = await _gateway.SignUp(GatewayClient.UniqueEmail("sentinel"));
        Assert.Equal("Completed", (await _gateway.WaitUntilFinal(sentinel)).Status);
        var requests = await _fake.Requests(email);
        Assert.True(requests.Count == 0, FakeApisClient.Describe(requests));
    }

    [Fact]
    public async Task The_same_email_again_answers_the_same_signup_and_starts_no_new_work()
    {
        var email = GatewayClient.UniqueEmail("twice");
        var first = await _gateway.SignUp(email);

        var whileInProgress = await _gateway.SignUp($"  {email.ToUpperInvariant()}  ");
        Assert.Equal(first, whileInProgress);

        var final = await _gateway.WaitUntilFinal(first);
        Assert.True(final.Status == "Completed", $"expected Completed: {final}");
        var afterCompletion = await _gateway.SignUp($" {email.ToUpperInvariant()}");
        Assert.Equal(first, afterCompletion);

        var requests = await _fake.Requests(email);
        Assert.True(requests.Count(r => r.IsContactSync) == 1, $"one contact sync expected: {FakeApisClient.Describe(requests)}");
        Assert.True(requests.Count(r => r.IsSlackInvite) == 1, $"one invite expected: {FakeApisClient.Describe(requests)}");
    }

    [Fact]
    public async Task An_unknown_signup_id_is_not_found()
    {
        var status = await _gateway.Status(Guid.NewGuid());

        Assert.Equal(HttpStatusCode.NotFound, status.HttpStatus);
    }
}
