using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.FakeApis;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Joinery.Tests.FakeApis;

/// <summary>The fake server's production behaviours: rate limits, chaos, the new Slack and ActiveCampaign calls, the SMTP sink.</summary>
public sealed class FakeApiBehaviourTests : RunningFakeApiServer
{
    Task<HttpResponseMessage> Slack(string method, Dictionary<string, string> fields, string token = FakeApiOptions.DefaultSlackToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/{method}") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    Task<HttpResponseMessage> Invite(string email) =>
        Slack("admin.users.invite", new() { ["team_id"] = "T1", ["email"] = email, ["channel_ids"] = "C1" });

    Task<HttpResponseMessage> Ac(string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/3/{path}") { Content = JsonContent.Create(body) };
        request.Headers.Add("Api-Token", FakeApiOptions.DefaultActiveCampaignToken);
        return Http.SendAsync(request);
    }

    static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    async Task Configure(object behaviour)
    {
        using var response = await Http.PostAsJsonAsync("_fake/config", behaviour);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Slack_invites_over_the_configured_rate_get_429_with_retry_after()
    {
        await Configure(new { slack = new { invitesPerMinute = 60 } });

        using var first = await Invite("one@example.org");
        using var second = await Invite("two@example.org");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), second.Headers.RetryAfter?.Delta);
        Assert.Equal("ratelimited", (await Json(second)).GetProperty("error").GetString());
        // Other methods have their own limits (none here).
        using var lookup = await Slack("users.lookupByEmail", new() { ["email"] = "x@example.org" });
        Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        var log = Server.State.Requests.Snapshot();
        Assert.Contains(log, r => r.Status == 429 && r.Email == "two@example.org");
    }

    [Fact]
    public async Task ActiveCampaign_over_its_rate_gets_429()
    {
        await Configure(new { activecampaign = new { requestsPerSecond = 1 } });

        using var first = await Ac("contact/sync", new { contact = new { email = "a@example.org" } });
        using var second = await Ac("contact/sync", new { contact = new { email = "b@example.org" } });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
    }

    [Fact]
    public async Task An_error_rate_of_one_answers_every_call_503_and_reset_restores_the_defaults()
    {
        await Configure(new { errorRate = 1.0 });

        using var failed = await Invite("one@example.org");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);

        using var reset = await Http.PostAsync("_fake/reset", null);
        using var ok = await Invite("one@example.org");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(0, (await Json(await Http.GetAsync("_fake/config"))).GetProperty("errorRate").GetDouble());
    }

    [Fact]
    public async Task A_timeout_hangs_until_the_client_gives_up()
    {
        await Configure(new { timeoutRate = 1.0, timeoutMs = 60_000 });
        using var client = new HttpClient { BaseAddress = Server.BaseUri, Timeout = TimeSpan.FromMilliseconds(300) };

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => client.PostAsync("api/3/contact/sync", JsonContent.Create(new { contact = new { email = "a@example.org" } })));
    }

    [Fact]
    public async Task Invalid_behaviour_is_refused()
    {
        using var response = await Http.PostAsJsonAsync("_fake/config", new { errorRate = 2.0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Lookup_finds_seeded_members_with_either_token()
    {
        Server.State.AddSlackMember("member@example.org");

        var found = await Json(await Slack("users.lookupByEmail", new() { ["email"] = "Member@Example.org" }, FakeApiOptions.DefaultSlackBotToken));
        var missing = await Json(await Slack("users.lookupByEmail", new() { ["email"] = "nobody@example.org" }));

        Assert.True(found.GetProperty("ok").GetBoolean());
        Assert.False(found.GetProperty("user").GetProperty("deleted").GetBoolean());
        Assert.Equal("users_not_found", missing.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_admin_invite_refuses_a_bot_token()
    {
        var body = await Json(await Slack("admin.users.invite", new() { ["team_id"] = "T1", ["email"] = "a@example.org", ["channel_ids"] = "C1" },
            FakeApiOptions.DefaultSlackBotToken));

        Assert.Equal("not_allowed_token_type", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Post_message_keeps_the_message_and_refuses_an_unknown_channel()
    {
        var posted = await Json(await Slack("chat.postMessage", new() { ["channel"] = "C0ADMINS", ["text"] = "hello" }, FakeApiOptions.DefaultSlackBotToken));
        var refused = await Json(await Slack("chat.postMessage", new() { ["channel"] = "#nope", ["text"] = "hello" }, FakeApiOptions.DefaultSlackBotToken));

        Assert.True(posted.GetProperty("ok").GetBoolean());
        Assert.Equal("channel_not_found", refused.GetProperty("error").GetString());
        var message = Assert.Single(Server.State.Messages);
        Assert.Equal(("C0ADMINS", "hello"), (message.Channel, message.Text));
        var listed = await Json(await Http.GetAsync("_fake/messages?channel=C0ADMINS"));
        Assert.Equal(1, listed.GetArrayLength());
    }

    [Fact]
    public async Task The_legacy_invite_records_an_invite_and_answers_already_invited_the_second_time()
    {
        var fields = new Dictionary<string, string> { ["email"] = "legacy@example.org", ["channels"] = "C1", ["first_name"] = "Ada" };

        var first = await Json(await Slack("users.admin.invite", fields));
        var second = await Json(await Slack("users.admin.invite", fields));

        Assert.True(first.GetProperty("ok").GetBoolean());
        Assert.Equal("already_invited", second.GetProperty("error").GetString());
        Assert.Equal("Ada", Assert.Single(Server.State.Invites).RealName);
    }

    [Fact]
    public async Task A_failure_with_a_count_fails_that_many_calls_with_its_status_and_retry_after()
    {
        using var configured = await Http.PostAsJsonAsync("_fake/failures",
            new { api = "slack", email = "busy@example.org", error = "ratelimited", status = 429, times = 2, retryAfter = 7 });
        Assert.Equal(HttpStatusCode.Created, configured.StatusCode);

        using var first = await Invite("busy@example.org");
        using var second = await Invite("busy@example.org");
        using var third = await Invite("busy@example.org");

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.True((await Json(third)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Contact_lists_and_tags_are_kept_and_unknown_ids_are_404()
    {
        var contact = (await Json(await Ac("contact/sync", new { contact = new { email = "ada@example.org" } }))).GetProperty("contact").GetProperty("id").GetString();

        using var subscribed = await Ac("contactLists", new { contactList = new { list = "7", contact, status = 1 } });
        using var again = await Ac("contactLists", new { contactList = new { list = 7, contact, status = 1 } });
        using var tagged = await Ac("contactTags", new { contactTag = new { contact, tag = "3" } });
        using var retagged = await Ac("contactTags", new { contactTag = new { contact, tag = "3" } });
        using var noList = await Ac("contactLists", new { contactList = new { list = "999", contact, status = 1 } });
        using var noContact = await Ac("contactTags", new { contactTag = new { contact = "999999", tag = "3" } });

        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Created, tagged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retagged.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noList.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noContact.StatusCode);
        Assert.Equal(("7", "1"), (Assert.Single(Server.State.ContactLists).List, Server.State.ContactLists[0].Status));
        Assert.Equal("3", Assert.Single(Server.State.ContactTags).Tag);
        Assert.Contains(Server.State.Requests.Snapshot("ada@example.org"), r => r.Path == "/api/3/contactTags" && r.Status == 201);
    }

    [Fact]
    public async Task The_smtp_sink_takes_a_mailkit_mail_and_shows_it()
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("joinery@example.org"));
        message.To.Add(new MailboxAddress("Grâce Hopper", "grace@example.org"));
        message.Subject = "Your invitation";
        message.Body = new TextPart("plain") { Text = "Join here: https://join.slack.com/t/x/shared_invite/zt-" + new string('a', 120) + "\n.starts with a dot" };

        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", Server.SmtpPort, SecureSocketOptions.None);
            await client.AuthenticateAsync("mailer", "secret");
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        var mails = await Json(await Http.GetAsync("_fake/mails?to=GRACE@example.org"));
        var mail = Assert.Single(mails.EnumerateArray());
        Assert.Equal("Your invitation", mail.GetProperty("subject").GetString());
        Assert.Contains("zt-" + new string('a', 120), mail.GetProperty("text").GetString());
        Assert.Contains("\n.starts with a dot", mail.GetProperty("text").GetString());
        Assert.Equal("mailer", mail.GetProperty("authenticatedAs").GetString());
    }

    [Fact]
    public async Task The_smtp_sink_refuses_a_recipient_with_a_configured_failure()
    {
        Server.State.AddFailure(FakeFailure.Create("smtp", "gone@example.org", "no such mailbox", 550));
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("joinery@example.org"));
        message.To.Add(MailboxAddress.Parse("gone@example.org"));
        message.Body = new TextPart("plain") { Text = "hello" };

        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", Server.SmtpPort, SecureSocketOptions.None);
        var refusal = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));

        Assert.Equal(550, (int)refusal.StatusCode);
        Assert.Empty(Server.State.Mails);
    }
}
