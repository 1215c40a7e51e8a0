using Joinery.Contracts;
using Joinery.FakeApis;
using Joinery.Tests.CrmSync;
using Joinery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MassTransit.Testing;

namespace Joinery.Tests.SlackInvite;

/// <summary>The InviteLink strategy against the fake server's SMTP sink and Slack API (real sockets).</summary>
public sealed class Inviting_with_the_invite_link : IAsyncLifetime
{
    const string Link = "https://join.slack.com/t/joinery-test/shared_invite/zt-abc123";
    FakeApiServer _fake = null!;
    readonly string _data = CrmSyncTestHost.NewDataDirectory();

    public async Task InitializeAsync() => _fake = await FakeApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        CrmSyncTestHost.DeleteDataDirectory(_data);
    }

    Dictionary<string, string?> Settings(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Persistence:DataDirectory"] = _data,
            ["Slack:Strategy"] = "InviteLink",
            ["Slack:BaseUrl"] = _fake.SlackBaseUri.ToString(),
            ["Slack:BotToken"] = FakeApiOptions.DefaultSlackBotToken,
            ["Slack:AdminChannelId"] = "C0ADMINS",
            ["Slack:InviteLink"] = Link,
            ["Slack:WorkspaceName"] = "Joinery Test",
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _fake.SmtpPort.ToString(),
            ["Smtp:Security"] = "None",
            ["Smtp:From"] = "Joinery <joinery@example.org>",
            ["Smtp:User"] = "mailer",
            ["Smtp:Password"] = "smtp-secret-for-tests",
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    // The stub stays empty: every call goes to the fake server.
    Task<SlackInviteTestHost> Start(params (string Key, string? Value)[] more) => Start(null, more);

    Task<SlackInviteTestHost> Start(CapturedLogs? logs, params (string Key, string? Value)[] more) =>
        SlackInviteTestHost.Start(new StubSlack(), configured: false, settings: Settings(more),
            services: s =>
            {
                s.AddHttpClient(Joinery.SlackInvite.SlackInviteServiceExtensions.SlackHttpClient)
                    .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler());
                logs?.AddTo(s);
            });

    static async Task<T> PublishedOne<T>(ITestHarness harness, Func<T, bool> filter) where T : class
    {
        Assert.True(await harness.Published.Any<T>(x => filter(x.Context.Message)), $"expected {typeof(T).Name}");
        return harness.Published.Select<T>(x => filter(x.Context.Message)).First().Context.Message;
    }

    [Fact]
    public async Task The_link_is_mailed_to_the_person_and_the_signup_completes()
    {
        await using var host = await Start();
        var invite = new InviteToSlack(Guid.NewGuid(), "Grace Hopper", "grace@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.InviteLinkSent, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        var mail = Assert.Single(_fake.State.Mails);
        Assert.Equal(["grace@example.org"], mail.To);
        Assert.Equal("joinery@example.org", mail.From);
        Assert.Equal("Your invitation to Joinery Test", mail.Subject);
        Assert.Contains(Link, mail.Text);
        Assert.Contains("Grace Hopper", mail.Text);
        Assert.Equal("mailer", mail.AuthenticatedAs);
        // The lookup ran first, with the bot token the fake accepts.
        Assert.Contains(_fake.State.Requests.Snapshot("grace@example.org"), r => r.Path == "/api/users.lookupByEmail" && r.Error == "users_not_found");
    }

    [Fact]
    public async Task The_smtp_password_and_the_bot_token_never_appear_in_the_logs()
    {
        var logs = new CapturedLogs();
        _fake.State.AddFailure(FakeFailure.Create("smtp", "flaky@example.org", "try later", 451) with { Times = 1 });
        await using var host = await Start(logs, ("Slack:Retry:InitialDelay", "00:00:00.050"));
        var invite = new InviteToSlack(Guid.NewGuid(), "Flaky", "flaky@example.org");

        await host.Harness.Bus.Publish(invite);

        await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId);
        Assert.Equal("mailer", Assert.Single(_fake.State.Mails).AuthenticatedAs);
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain("smtp-secret-for-tests", logs.All);
        Assert.DoesNotContain(FakeApiOptions.DefaultSlackBotToken, logs.All);
    }

    [Fact]
    public async Task A_redelivered_invite_does_not_mail_or_count_twice()
    {
        await using var host = await Start(("Slack:InviteLinkMaxUses", "5"));
        var invite = new InviteToSlack(Guid.NewGuid(), "Grace Hopper", "grace@example.org");

        await host.Harness.Bus.Publish(invite);
        await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId);
        await host.Harness.Bus.Publish(invite);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var count = 0;
        await foreach (var published in host.Harness.Published.SelectAsync<SlackInvited>(timeout.Token))
        {
            Assert.Equal(SlackOutcomes.InviteLinkSent, published.Context.Message.Outcome);
            if (++count == 2)
                break;
        }
        Assert.Equal(2, count);
        Assert.Single(_fake.State.Mails);
    }

    [Fact]
    public async Task Past_its_cap_the_link_is_refused_and_the_admins_are_told()
    {
        await using var host = await Start(("Slack:InviteLinkMaxUses", "2"));
        var invites = Enumerable.Range(1, 3).Select(i => new InviteToSlack(Guid.NewGuid(), $"Person {i}", $"person{i}@example.org")).ToList();

        foreach (var invite in invites)
        {
            await host.Harness.Bus.Publish(invite);
            await Eventually.True(() =>
                host.Harness.Published.Select<SlackInvited>(x => x.Context.Message.SignupId == invite.SignupId).Any()
                || host.Harness.Published.Select<SlackInviteFailed>(x => x.Context.Message.SignupId == invite.SignupId).Any(),
                TimeSpan.FromSeconds(30), $"an outcome for {invite.Email}");
        }

        var failed = await PublishedOne<SlackInviteFailed>(host.Harness, _ => true);
        Assert.Equal("slack:invite_link_exhausted", failed.Reason);
        Assert.Equal(2, host.Harness.Published.Select<SlackInvited>().Count());
        Assert.Equal(2, _fake.State.Mails.Count);
        // "uses left" after the first mail (a tenth, at least one, is left), "cap" on the third: once each.
        var posts = _fake.State.Messages.Where(m => m.Channel == "C0ADMINS").Select(m => m.Text).ToList();
        Assert.Equal(2, posts.Count);
        Assert.Contains(posts, t => t.Contains("1 of its 2 uses left"));
        Assert.Contains(posts, t => t.Contains("its cap"));
    }

    [Fact]
    public async Task An_expired_link_fails_the_signup_without_a_mail()
    {
        await using var host = await Start(("Slack:InviteLinkExpiresAt", DateTimeOffset.UtcNow.AddHours(-1).ToString("O")));
        var invite = new InviteToSlack(Guid.NewGuid(), "Grace Hopper", "grace@example.org");

        await host.Harness.Bus.Publish(invite);

        await Eventually.True(() => host.Harness.Published.Select<SlackInviteFailed>().Any() || host.Harness.Published.Select<MassTransit.Fault<InviteToSlack>>().Any(), TimeSpan.FromSeconds(30));
        Assert.Empty(host.Harness.Published.Select<MassTransit.Fault<InviteToSlack>>().SelectMany(f => f.Context.Message.Exceptions).Select(e => e.ExceptionType + ": " + e.Message + e.StackTrace));
        Assert.Equal("slack:invite_link_expired", (await PublishedOne<SlackInviteFailed>(host.Harness, m => m.SignupId == invite.SignupId)).Reason);
        Assert.Empty(_fake.State.Mails);
    }

    [Fact]
    public async Task Admins_are_warned_at_start_up_when_the_link_expires_within_the_warning_window()
    {
        await using var host = await Start(
            ("Slack:InviteLinkExpiresAt", DateTimeOffset.UtcNow.AddDays(2).ToString("O")),
            ("Slack:InviteLinkWarnDays", "3"));

        var post = Assert.Single(_fake.State.Messages);
        Assert.Equal("C0ADMINS", post.Channel);
        Assert.Contains("expires on", post.Text);
    }

    [Fact]
    public async Task A_mailbox_the_server_refuses_for_good_fails_the_signup_with_the_smtp_code()
    {
        _fake.State.AddFailure(FakeFailure.Create("smtp", "nobody@example.org", "no such user", 550));
        await using var host = await Start(("Slack:InviteLinkMaxUses", "10"));
        var invite = new InviteToSlack(Guid.NewGuid(), "Nobody", "nobody@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.Equal("smtp:550", (await PublishedOne<SlackInviteFailed>(host.Harness, m => m.SignupId == invite.SignupId)).Reason);
        Assert.Empty(_fake.State.Mails);
    }

    [Fact]
    public async Task A_temporary_smtp_refusal_is_retried()
    {
        _fake.State.AddFailure(FakeFailure.Create("smtp", "later@example.org", "try again later", 451) with { Times = 1 });
        await using var host = await Start(("Slack:Retry:InitialDelay", "00:00:00.050"));
        var invite = new InviteToSlack(Guid.NewGuid(), "Later", "later@example.org");

        await host.Harness.Bus.Publish(invite);

        Assert.Equal(SlackOutcomes.InviteLinkSent, (await PublishedOne<SlackInvited>(host.Harness, m => m.SignupId == invite.SignupId)).Outcome);
        Assert.Single(_fake.State.Mails);
        Assert.Contains(_fake.State.Requests.Snapshot("later@example.org"), r => r.Api == "smtp" && r.Status == 451);
    }
}
