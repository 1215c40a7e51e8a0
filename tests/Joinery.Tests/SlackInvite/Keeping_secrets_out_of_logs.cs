using System.Net;
using Joinery.Contracts;
using Joinery.CrmSync;
using Joinery.Tests.CrmSync;

namespace Joinery.Tests.SlackInvite;

/// <summary>Every log line (all categories, Trace and up, exceptions included) during calls that succeed, fail and retry: no token in any.</summary>
public sealed class Keeping_secrets_out_of_logs
{
    const string UserToken = "xoxp-SECRET-user-token-4242";
    const string BotToken = "xoxb-SECRET-bot-token-4242";
    const string AcToken = "SECRET-ac-token-4242";

    [Fact]
    public async Task Slack_tokens_never_appear_in_the_logs()
    {
        var logs = new CapturedLogs();
        var slack = new StubSlack()
            .OnError("users.lookupByEmail", "users_not_found")
            .On("admin.users.invite", HttpStatusCode.TooManyRequests, """{"ok":false,"error":"ratelimited"}""", "0")
            .OnError("users.lookupByEmail", "users_not_found")
            .OnError("admin.users.invite", "invalid_auth");
        await using var host = await SlackInviteTestHost.Start(slack, settings: new Dictionary<string, string?>
        {
            ["Slack:Token"] = UserToken,
            ["Slack:BotToken"] = BotToken,
            ["Slack:Retry:InitialDelay"] = "00:00:00.050",
        }, services: logs.AddTo);
        var invite = new InviteToSlack(Guid.NewGuid(), "Ada", "ada@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.True(await host.Harness.Published.Any<SlackInviteFailed>(x => x.Context.Message.SignupId == invite.SignupId));
        // The tokens did go out, so the check below is about logging, not about a call that never happened.
        Assert.Contains(slack.Requests, r => r.Headers.TryGetValue("Authorization", out var a) && a.Contains(UserToken));
        Assert.Contains(slack.Requests, r => r.Headers.TryGetValue("Authorization", out var a) && a.Contains(BotToken));
        Assert.NotEmpty(logs.Lines);
        Assert.Contains(logs.Lines, l => l.Contains("System.Net.Http.HttpClient"));
        Assert.DoesNotContain(UserToken, logs.All);
        Assert.DoesNotContain(BotToken, logs.All);
        Assert.DoesNotContain("SECRET", logs.All);
    }

    [Fact]
    public async Task The_activecampaign_token_never_appears_in_the_logs()
    {
        var logs = new CapturedLogs();
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.ServiceUnavailable, """{"message":"down"}""")
            .Then(HttpStatusCode.UnprocessableEntity, """{"errors":[{"code":"email_invalid"}]}""");
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:ApiToken"] = AcToken,
            ["ActiveCampaign:Retry:InitialDelay"] = "00:00:00.050",
        }, services: logs.AddTo);
        var signup = new SignupRequested(Guid.NewGuid(), "Ada", "ada@example.org", "ada@example.org", DateTimeOffset.UtcNow);

        await host.Harness.Bus.Publish(signup);

        Assert.True(await host.Harness.Published.Any<ContactSyncFailed>(x => x.Context.Message.SignupId == signup.SignupId));
        Assert.All(crm.Requests, r => Assert.Equal(AcToken, r.Headers["Api-Token"]));
        Assert.Contains(logs.Lines, l => l.Contains("System.Net.Http.HttpClient"));
        Assert.DoesNotContain(AcToken, logs.All);
        Assert.DoesNotContain("SECRET", logs.All);
    }
}
