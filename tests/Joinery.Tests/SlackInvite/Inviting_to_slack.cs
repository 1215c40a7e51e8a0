using System.Net;
using Joinery.Contracts;
using MassTransit.Testing;

namespace Joinery.Tests.SlackInvite;

public sealed class Inviting_to_slack
{
    static InviteToSlack Invite() => new(Guid.NewGuid(), "Ada Lovelace", "ada@example.org");

    static async Task<SlackInvited> Invited(ITestHarness harness, Guid signupId)
    {
        Assert.True(await harness.Published.Any<SlackInvited>(x => x.Context.Message.SignupId == signupId), "expected SlackInvited");
        return harness.Published.Select<SlackInvited>(x => x.Context.Message.SignupId == signupId).Single().Context.Message;
    }

    static async Task<SlackInviteFailed> Refused(ITestHarness harness, Guid signupId)
    {
        Assert.True(await harness.Published.Any<SlackInviteFailed>(x => x.Context.Message.SignupId == signupId), "expected SlackInviteFailed");
        return harness.Published.Select<SlackInviteFailed>(x => x.Context.Message.SignupId == signupId).Single().Context.Message;
    }

    [Fact]
    public async Task Should_report_invited_when_slack_answers_ok()
    {
        await using var host = await SlackInviteTestHost.Start(new StubSlack().ThenOk());
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(new SlackInvited(invite.SignupId, SlackOutcomes.Invited, Attempts: 1), await Invited(host.Harness, invite.SignupId));
    }

    [Fact]
    public async Task Should_post_the_form_with_the_bearer_token()
    {
        var slack = new StubSlack().ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);
        await Invited(host.Harness, invite.SignupId);

        var request = Assert.Single(slack.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("Bearer " + SlackInviteTestHost.Token, request.Headers["Authorization"]);
        var form = System.Web.HttpUtility.ParseQueryString(request.Body!);
        Assert.Equal(SlackInviteTestHost.TeamId, form["team_id"]);
        Assert.Equal(invite.Email, form["email"]);
        Assert.Equal(SlackInviteTestHost.ChannelIds, form["channel_ids"]);
        Assert.Equal(invite.Name, form["real_name"]);
    }

    [Fact]
    public async Task Should_leave_out_settings_that_are_not_configured()
    {
        var slack = new StubSlack().ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?>
        {
            ["Slack:TeamId"] = null,
            ["Slack:ChannelIds"] = null,
        });
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);
        await Invited(host.Harness, invite.SignupId);

        var form = System.Web.HttpUtility.ParseQueryString(Assert.Single(slack.Requests).Body!);
        Assert.Equal("email,real_name", string.Join(",", form.AllKeys.Order()));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8090/api", "http://127.0.0.1:8090/api/admin.users.invite")]
    [InlineData("http://127.0.0.1:8090/api/", "http://127.0.0.1:8090/api/admin.users.invite")]
    [InlineData("https://slack.com/api", "https://slack.com/api/admin.users.invite")]
    public async Task Should_call_the_method_below_the_path_of_the_base_url(string baseUrl, string expected)
    {
        var slack = new StubSlack().ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?> { ["Slack:BaseUrl"] = baseUrl });
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);
        await Invited(host.Harness, invite.SignupId);

        Assert.Equal(expected, Assert.Single(slack.Requests).Uri.ToString());
    }

    [Fact]
    public async Task Should_report_already_member_when_slack_answers_already_in_team()
    {
        await using var host = await SlackInviteTestHost.Start(new StubSlack().ThenError("already_in_team"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.AlreadyMember, (await Invited(host.Harness, invite.SignupId)).Outcome);
        Assert.False(await host.Harness.Published.Any<SlackInviteFailed>());
    }

    [Fact]
    public async Task Should_report_already_invited_when_slack_answers_already_invited()
    {
        await using var host = await SlackInviteTestHost.Start(new StubSlack().ThenError("already_invited"));
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.AlreadyInvited, (await Invited(host.Harness, invite.SignupId)).Outcome);
        Assert.False(await host.Harness.Published.Any<SlackInviteFailed>());
    }

    [Fact]
    public async Task Should_report_a_permanent_refusal_for_an_invalid_email()
    {
        var slack = new StubSlack().ThenError("invalid_email");
        await using var host = await SlackInviteTestHost.Start(slack);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(new SlackInviteFailed(invite.SignupId, "slack:invalid_email", Attempts: 1), await Refused(host.Harness, invite.SignupId));
        Assert.Single(slack.Requests);
        Assert.False(await host.Harness.Published.Any<SlackInvited>());
    }

    [Fact]
    public async Task Should_retry_when_slack_is_rate_limited_and_then_report_invited()
    {
        var slack = new StubSlack().ThenError("ratelimited").ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await Invited(host.Harness, invite.SignupId)).Outcome);
        Assert.Equal(2, slack.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, """{"ok":false,"error":"ratelimited"}""")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "")]
    [InlineData(HttpStatusCode.OK, """{"ok":false,"error":"service_unavailable"}""")]
    [InlineData(HttpStatusCode.OK, """{"ok":false,"error":"internal_error"}""")]
    [InlineData(HttpStatusCode.OK, """{"ok":false,"error":"fatal_error"}""")]
    [InlineData(HttpStatusCode.OK, """{"ok":false,"error":"request_timeout"}""")]
    public async Task Should_retry_a_transient_answer_and_then_report_invited(HttpStatusCode status, string body)
    {
        var slack = new StubSlack().Then(status, body).ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await Invited(host.Harness, invite.SignupId)).Outcome);
        Assert.Equal(2, slack.Requests.Count);
    }

    [Fact]
    public async Task Should_retry_when_slack_does_not_answer_in_time()
    {
        var slack = new StubSlack().ThenNoAnswer().ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?> { ["Slack:Timeout"] = "00:00:00.200" });
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.Invited, (await Invited(host.Harness, invite.SignupId)).Outcome);
        Assert.Equal(2, slack.Requests.Count);
    }

    [Fact]
    public async Task Should_report_skipped_without_calling_when_slack_is_not_configured()
    {
        var slack = new StubSlack();
        await using var host = await SlackInviteTestHost.Start(slack, configured: false);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(new SlackInvited(invite.SignupId, SlackOutcomes.Skipped, Attempts: 1), await Invited(host.Harness, invite.SignupId));
        Assert.Empty(slack.Requests);
    }

    [Fact]
    public async Task Should_report_an_http_refusal_as_permanent()
    {
        var slack = new StubSlack().Then(HttpStatusCode.Forbidden, "");
        await using var host = await SlackInviteTestHost.Start(slack);
        var invite = Invite();

        await host.Harness.Bus.Publish(invite);

        Assert.Equal("slack:http_403", (await Refused(host.Harness, invite.SignupId)).Reason);
        Assert.Single(slack.Requests);
    }
}
