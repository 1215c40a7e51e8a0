using System.Net;
using Joinery.Contracts;
using Joinery.Tests.Support;
using MassTransit.Testing;

namespace Joinery.Tests.SlackInvite;

/// <summary>docs/integrations.md's Slack table, row by row: each answer reaches the consumer's outcome it documents.</summary>
public sealed class Classifying_slack_answers
{
    static readonly Dictionary<string, string?> FastRetries = new()
    {
        ["Slack:Retry:InitialDelay"] = "00:00:00.050",
        ["Slack:Retry:InProcessMaxDelay"] = "00:00:05",
    };

    [Theory]
    [InlineData("invalid_email")]
    [InlineData("not_allowed")]
    [InlineData("invite_limit_reached")]
    [InlineData("not_authed")]
    [InlineData("invalid_auth")]
    [InlineData("missing_scope")]
    [InlineData("channel_not_found")]
    [InlineData("user_disabled")]
    [InlineData("no_permission")]
    [InlineData("team_not_found")]
    public async Task A_permanent_refusal_fails_the_invite_with_its_reason_after_one_call(string error)
    {
        var slack = new StubSlack().ThenError(error);
        await using var host = await SlackInviteTestHost.Start(slack, settings: FastRetries);
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInviteFailed>(x => x.Context.Message.SignupId == invite.SignupId));
        Assert.Equal($"slack:{error}", host.Harness.Published.Select<SlackInviteFailed>().Single().Context.Message.Reason);
        Assert.Single(slack.Requests);
    }

    [Theory]
    [InlineData("ratelimited")]
    [InlineData("rate_limited")]
    [InlineData("service_unavailable")]
    [InlineData("internal_error")]
    [InlineData("fatal_error")]
    [InlineData("request_timeout")]
    [InlineData("team_added_to_org")]
    public async Task A_transient_error_is_retried_until_it_goes_through(string error)
    {
        var slack = new StubSlack().ThenError(error).ThenError(error).ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: FastRetries);
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInvited>(x => x.Context.Message.SignupId == invite.SignupId));
        Assert.Equal(3, slack.Requests.Count);
        Assert.False(await host.Harness.Published.Any<SlackInviteFailed>());
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    public async Task A_5xx_or_408_is_retried(HttpStatusCode status)
    {
        var slack = new StubSlack().Then(status, "").ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: FastRetries);
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInvited>(x => x.Context.Message.SignupId == invite.SignupId));
        Assert.Equal(2, slack.Requests.Count);
    }

    [Fact]
    public async Task A_429_waits_at_least_its_retry_after_before_the_next_call()
    {
        var slack = new StubSlack().On("admin.users.invite", HttpStatusCode.TooManyRequests, """{"ok":false,"error":"ratelimited"}""", retryAfterSeconds: "2").ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: FastRetries);
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInvited>(x => x.Context.Message.SignupId == invite.SignupId));
        var calls = slack.Requests.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(1.95), $"retried after {(calls[1].At - calls[0].At).TotalSeconds:0.00}s");
    }

    [Fact]
    public async Task Past_the_deadline_the_invite_fails_as_unavailable()
    {
        var slack = new StubSlack().Always(HttpStatusCode.ServiceUnavailable, "");
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?>
        {
            ["Slack:Retry:InitialDelay"] = "00:00:00.100",
            ["Slack:Retry:Deadline"] = "00:00:01",
        });
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInviteFailed>(x => x.Context.Message.SignupId == invite.SignupId));
        Assert.Equal("slack:unavailable", host.Harness.Published.Select<SlackInviteFailed>().Single().Context.Message.Reason);
        Assert.InRange(slack.Requests.Count, 2, 20);
        Assert.False(await host.Harness.Published.Any<SlackInvited>());
    }

    [Fact]
    public async Task A_long_wait_leaves_the_consumer_and_comes_back_with_its_attempt_count()
    {
        // In-process waits are capped at 0.3 s here, so the 2 s Retry-After goes through the waiter (in memory on this transport).
        var slack = new StubSlack().On("admin.users.invite", HttpStatusCode.TooManyRequests, "{}", retryAfterSeconds: "2").ThenOk();
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?>
        {
            ["Slack:Retry:InProcessMaxDelay"] = "00:00:00.300",
        });
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        // Polled: while the message waits outside the consumer the bus is idle, which the harness's Any takes for "done".
        await Eventually.True(() => host.Harness.Published.Select<SlackInvited>(x => x.Context.Message.SignupId == invite.SignupId).Any(),
            TimeSpan.FromSeconds(20), "SlackInvited after the wait");
        var deliveries = host.Harness.Consumed.Select<InviteToSlack>(x => x.Context.Message.SignupId == invite.SignupId).ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.Equal("1", deliveries[1].Context.Headers.Get<string>(Joinery.ServiceDefaults.Retry.RetryState.AttemptsHeader));
        Assert.NotNull(deliveries[1].Context.Headers.Get<string>(Joinery.ServiceDefaults.Retry.RetryState.FirstAttemptHeader));
        var calls = slack.Requests.ToArray();
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(1.95));
    }
}
