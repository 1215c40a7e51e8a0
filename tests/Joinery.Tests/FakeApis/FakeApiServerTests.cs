using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.FakeApis;

namespace Joinery.Tests.FakeApis;

/// <summary>The fake external APIs over real HTTP, as the services and the end-to-end tests will meet them.</summary>
public sealed class FakeApiServerTests : RunningFakeApiServer
{
    Task<HttpResponseMessage> SyncContact(string email, string? token = FakeApiOptions.DefaultActiveCampaignToken, string firstName = "Ada")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/3/contact/sync")
        {
            Content = JsonContent.Create(new { contact = new { email, firstName, lastName = "Lovelace" } }),
        };
        if (token is not null)
            request.Headers.Add("Api-Token", token);
        return Http.SendAsync(request);
    }

    Task<HttpResponseMessage> DeleteContact(string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"api/3/contacts/{id}");
        request.Headers.Add("Api-Token", FakeApiOptions.DefaultActiveCampaignToken);
        return Http.SendAsync(request);
    }

    Task<HttpResponseMessage> Invite(string email, string? token = FakeApiOptions.DefaultSlackToken, bool resend = false)
    {
        var fields = new Dictionary<string, string>
        {
            ["team_id"] = "T0FAKE",
            ["email"] = email,
            ["channel_ids"] = "C0GENERAL,C0RANDOM",
            ["real_name"] = "Ada Lovelace",
        };
        if (resend)
            fields["resend"] = "true";
        var request = new HttpRequestMessage(HttpMethod.Post, "api/admin.users.invite") { Content = new FormUrlEncodedContent(fields) };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    static async Task<string?> SlackError(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        return body.GetProperty("ok").GetBoolean() ? null : body.GetProperty("error").GetString();
    }

    async Task<JsonElement> RequestLog(string? email = null) =>
        await Json(await Http.GetAsync(email is null ? "_fake/requests" : $"_fake/requests?email={Uri.EscapeDataString(email)}"));

    [Fact]
    public async Task Should_create_a_contact_with_201_then_update_it_with_200()
    {
        var created = await SyncContact("ada@example.org");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = (await Json(created)).GetProperty("contact");
        Assert.Equal("1", first.GetProperty("id").GetString());
        Assert.Equal("ada@example.org", first.GetProperty("email").GetString());

        var updated = await SyncContact("  ADA@Example.org ", firstName: "Augusta");
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var second = (await Json(updated)).GetProperty("contact");
        Assert.Equal("1", second.GetProperty("id").GetString());
        Assert.Equal("Augusta", second.GetProperty("firstName").GetString());

        Assert.Single(Server.State.Contacts);
    }

    [Fact]
    public async Task Should_refuse_a_sync_without_the_token()
    {
        var missing = await SyncContact("ada@example.org", token: null);
        var wrong = await SyncContact("ada@example.org", token: "not-the-token");

        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal("Forbidden", (await Json(missing)).GetProperty("message").GetString());
        Assert.Empty(Server.State.Contacts);
    }

    [Fact]
    public async Task Should_refuse_an_invalid_email_with_422()
    {
        var response = await SyncContact("not-an-email");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("email_invalid", (await Json(response)).GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_delete_a_contact_once_then_answer_404()
    {
        var id = (await Json(await SyncContact("ada@example.org"))).GetProperty("contact").GetProperty("id").GetString()!;

        var deleted = await DeleteContact(id);
        var again = await DeleteContact(id);

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal($"No Result found for Subscriber with id {id}", (await Json(again)).GetProperty("message").GetString());
        Assert.Empty(Server.State.Contacts);
    }

    [Fact]
    public async Task Should_answer_already_invited_to_a_second_invite_unless_it_is_a_resend()
    {
        var first = await Invite("ada@example.org");
        Assert.Equal("application/json; charset=utf-8", first.Content.Headers.ContentType?.ToString());
        Assert.Null(await SlackError(first));

        Assert.Equal("already_invited", await SlackError(await Invite("ADA@example.org")));
        Assert.Null(await SlackError(await Invite("ada@example.org", resend: true)));

        var invite = Server.State.Invites[0];
        Assert.Equal(("T0FAKE", "C0GENERAL,C0RANDOM", "Ada Lovelace"), (invite.TeamId, invite.ChannelIds, invite.RealName));
    }

    [Fact]
    public async Task Should_answer_slack_auth_errors_with_http_200()
    {
        Assert.Equal("not_authed", await SlackError(await Invite("ada@example.org", token: null)));
        Assert.Equal("invalid_auth", await SlackError(await Invite("ada@example.org", token: "xoxp-wrong")));
        Assert.Empty(Server.State.Invites);
    }

    [Fact]
    public async Task Should_answer_already_in_team_for_a_seeded_member()
    {
        (await Http.PostAsJsonAsync("_fake/members", new { email = "Member@example.org" })).EnsureSuccessStatusCode();

        Assert.Equal("already_in_team", await SlackError(await Invite("member@example.org")));
    }

    [Fact]
    public async Task Should_fail_calls_for_an_email_with_a_configured_failure_until_cleared()
    {
        (await Http.PostAsJsonAsync("_fake/failures", new { api = "slack", email = "Doomed@example.org" })).EnsureSuccessStatusCode();
        (await Http.PostAsJsonAsync("_fake/failures",
            new { api = "activecampaign", email = "doomed@example.org", error = "duplicate", status = 400 })).EnsureSuccessStatusCode();

        Assert.Equal("invalid_email", await SlackError(await Invite("doomed@example.org")));
        Assert.Equal("invalid_email", await SlackError(await Invite("doomed@example.org")));
        var sync = await SyncContact("DOOMED@example.org");
        Assert.Equal(HttpStatusCode.BadRequest, sync.StatusCode);
        Assert.Equal("duplicate", (await Json(sync)).GetProperty("errors")[0].GetProperty("code").GetString());
        Assert.Null(await SlackError(await Invite("someone.else@example.org")));

        (await Http.DeleteAsync("_fake/failures")).EnsureSuccessStatusCode();
        Assert.Null(await SlackError(await Invite("doomed@example.org")));
    }

    [Fact]
    public async Task Should_log_every_api_call_in_arrival_order_and_no_control_calls()
    {
        await SyncContact("ada@example.org", token: null);
        var id = (await Json(await SyncContact("ada@example.org"))).GetProperty("contact").GetProperty("id").GetString();
        await Invite("grace@example.org");
        await Invite("grace@example.org");
        await DeleteContact(id!);
        await Http.GetAsync("_fake/contacts");

        var log = (await RequestLog()).EnumerateArray()
            .Select(r => (
                r.GetProperty("api").GetString(),
                r.GetProperty("method").GetString(),
                r.GetProperty("path").GetString(),
                r.GetProperty("email").GetString(),
                r.GetProperty("status").GetInt32(),
                r.GetProperty("error").GetString()))
            .ToList();

        Assert.Equal(
        [
            ("activecampaign", "POST", "/api/3/contact/sync", "ada@example.org", 403, null),
            ("activecampaign", "POST", "/api/3/contact/sync", "ada@example.org", 201, null),
            ("slack", "POST", "/api/admin.users.invite", "grace@example.org", 200, null),
            ("slack", "POST", "/api/admin.users.invite", "grace@example.org", 200, "already_invited"),
            ("activecampaign", "DELETE", $"/api/3/contacts/{id}", "ada@example.org", 200, null),
        ], log);

        Assert.Equal(2, (await RequestLog("GRACE@example.org")).GetArrayLength());
    }

    [Fact]
    public async Task Should_forget_everything_on_reset()
    {
        await SyncContact("ada@example.org");
        await Invite("ada@example.org");
        (await Http.PostAsJsonAsync("_fake/members", new { email = "member@example.org" })).EnsureSuccessStatusCode();

        (await Http.PostAsync("_fake/reset", content: null)).EnsureSuccessStatusCode();

        Assert.Equal(0, (await RequestLog()).GetArrayLength());
        Assert.Equal(0, (await Json(await Http.GetAsync("_fake/contacts"))).GetArrayLength());
        Assert.Equal(0, (await Json(await Http.GetAsync("_fake/invites"))).GetArrayLength());
        Assert.Null(await SlackError(await Invite("member@example.org")));
    }

    [Fact]
    public async Task Should_let_exactly_one_of_many_concurrent_invites_for_one_email_succeed()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => await SlackError(await Invite("race@example.org"))));
        var syncs = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => SyncContact($"person{i}@example.org")));

        Assert.Single(answers, error => error is null);
        Assert.All(answers.Where(error => error is not null), error => Assert.Equal("already_invited", error));
        Assert.All(syncs, response => Assert.Equal(HttpStatusCode.Created, response.StatusCode));
        Assert.Equal(200, Server.State.Contacts.Select(c => c.Id).Distinct().Count());
        Assert.Equal(400, Server.State.Requests.Count);
    }
}
