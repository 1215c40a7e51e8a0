using System.Net;
using System.Web;
using Joinery.Contracts;
using MassTransit.Testing;

namespace Joinery.Tests.SlackInvite;

/// <summary>Each Slack strategy's happy path, the member lookup, and the approval round trip on slack-invite's side.</summary>
public sealed class Inviting_by_strategy
{
    const string BotToken = "xoxb-bot-token-for-tests";
    const string AdminChannel = "C0ADMINS";

    static InviteToSlack Invite(bool approved = false) => new(Guid.NewGuid(), "Ada <!channel> Lovelace", "ada@example.org", approved);

    static Dictionary<string, string?> Settings(string strategy, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Slack:Strategy"] = strategy,
            ["Slack:BotToken"] = BotToken,
            ["Slack:AdminChannelId"] = AdminChannel,
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    static async Task<T> PublishedOne<T>(ITestHarness harness, Func<T, bool> filter) where T : class
    {
        Assert.True(await harness.Published.Any<T>(x => filter(x.Context.Message)), $"expected {typeof(T).Name}");
        return harness.Published.Select<T>(x => filter(x.Context.Message)).First().Context.Message;
    }

    [Fact]
    public async Task A_member_found_by_email_completes_as_already_member_without_an_invite()
    {
        var slack = new StubSlack().On("users.lookupByEmail", HttpStatusCode.OK, """{"ok":true,"user":{"id":"U1","deleted":false}}""");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("AdminApi"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        var invited = await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId);
        Assert.Equal(SlackOutcomes.AlreadyMember, invited.Outcome);
        var lookup = Assert.Single(slack.Requests);
        Assert.Equal("users.lookupByEmail", lookup.ApiMethod);
        Assert.Equal("Bearer " + BotToken, lookup.Headers["Authorization"]);
        Assert.Equal(invite.Email, HttpUtility.ParseQueryString(lookup.Body!)["email"]);
    }

    [Fact]
    public async Task Users_not_found_goes_on_to_the_invite_with_the_user_token()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found").OnOk("admin.users.invite");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("AdminApi"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Equal(["users.lookupByEmail", "admin.users.invite"], slack.Requests.Select(r => r.ApiMethod).ToArray());
        Assert.Equal("Bearer " + SlackInviteTestHost.Token, slack.Calls("admin.users.invite").Single().Headers["Authorization"]);
    }

    [Fact]
    public async Task A_lookup_refused_for_good_does_not_fail_the_signup()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "missing_scope").OnOk("admin.users.invite");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("AdminApi"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Single(slack.Calls("admin.users.invite"));
    }

    [Fact]
    public async Task Without_a_bot_token_there_is_no_lookup()
    {
        var slack = new StubSlack().OnOk("admin.users.invite");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("AdminApi", ("Slack:BotToken", null)));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId);
        Assert.Equal(["admin.users.invite"], slack.Requests.Select(r => r.ApiMethod).ToArray());
    }

    [Fact]
    public async Task Approval_posts_the_applicant_to_the_admins_channel_and_asks_the_saga_to_wait()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found")
            .On("chat.postMessage", HttpStatusCode.OK, """{"ok":true,"channel":"C0ADMINS","ts":"1.2"}""");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval",
            ("Slack:ApprovalUrlTemplate", "https://joinery.example/admin/signups/{id}")));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        await PublishedOne<ApprovalRequested>(host.Harness, m => m.SignupId == invite.SignupId);
        Assert.False(await host.Harness.Published.Any<SlackInvited>());
        Assert.Empty(slack.Calls("admin.users.invite"));
        var post = slack.Calls("chat.postMessage").Single();
        Assert.Equal("Bearer " + BotToken, post.Headers["Authorization"]);
        using var body = System.Text.Json.JsonDocument.Parse(post.Body!);
        Assert.Equal(AdminChannel, body.RootElement.GetProperty("channel").GetString());
        var text = body.RootElement.GetProperty("text").GetString()!;
        Assert.Contains(invite.SignupId.ToString(), text);
        Assert.Contains($"https://joinery.example/admin/signups/{invite.SignupId}", text);
        // The visitor's name cannot ping the channel.
        Assert.Contains("&lt;!channel&gt;", text);
        Assert.DoesNotContain("<!channel>", text);
    }

    [Fact]
    public async Task Approval_of_a_member_completes_without_asking_anyone()
    {
        var slack = new StubSlack().On("users.lookupByEmail", HttpStatusCode.OK, """{"ok":true,"user":{"id":"U1","deleted":false}}""");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.AlreadyMember, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Empty(slack.Calls("chat.postMessage"));
    }

    [Fact]
    public async Task An_approved_invite_with_the_manual_follow_up_completes_as_invited_by_admin()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval", ("Slack:ApprovalFollowUp", "Manual")));
        var invite = Invite(approved: true);

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.InvitedByAdmin, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Empty(slack.Calls("chat.postMessage"));
        Assert.Empty(slack.Calls("admin.users.invite"));
    }

    [Fact]
    public async Task An_approved_invite_with_the_admin_api_follow_up_is_sent_by_admin_users_invite()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found").OnOk("admin.users.invite");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval", ("Slack:ApprovalFollowUp", "AdminApi")));
        var invite = Invite(approved: true);

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Single(slack.Calls("admin.users.invite"));
        Assert.Empty(slack.Calls("chat.postMessage"));
    }

    [Fact]
    public async Task An_admins_channel_slack_does_not_know_fails_the_signup_with_its_reason()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found").OnError("chat.postMessage", "channel_not_found");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal("slack:channel_not_found", (await PublishedOne<SlackInviteFailed>(host.Harness, m => m.SignupId == invite.SignupId)).Reason);
        Assert.False(await host.Harness.Published.Any<ApprovalRequested>());
    }

    [Fact]
    public async Task Approval_without_a_bot_token_or_channel_is_skipped()
    {
        var slack = new StubSlack();
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Approval", ("Slack:BotToken", null)));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Skipped, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Empty(slack.Requests);
    }

    [Fact]
    public async Task Legacy_posts_users_admin_invite_with_the_whole_name_and_the_channels()
    {
        var slack = new StubSlack().OnError("users.lookupByEmail", "users_not_found").OnOk("users.admin.invite");
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Legacy"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        var call = slack.Calls("users.admin.invite").Single();
        var form = HttpUtility.ParseQueryString(call.Body!);
        Assert.Equal(invite.Email, form["email"]);
        Assert.Equal(SlackInviteTestHost.ChannelIds, form["channels"]);
        Assert.Equal(invite.Name, form["first_name"]);
        Assert.Equal("Bearer " + SlackInviteTestHost.Token, call.Headers["Authorization"]);
    }

    [Theory]
    [InlineData("already_in_team_invited_user", SlackOutcomes.AlreadyMember)]
    [InlineData("sent_recently", SlackOutcomes.AlreadyInvited)]
    public async Task Legacy_answers_that_mean_done_are_successes(string error, string outcome)
    {
        var slack = new StubSlack().OnError("users.admin.invite", error);
        await using var host = await SlackInviteTestHost.Start(slack, settings: Settings("Legacy", ("Slack:BotToken", null)));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(outcome, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
    }
}
