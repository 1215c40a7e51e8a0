using Joinery.Contracts;
using Joinery.Gateway.Confirmation;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Joinery.Tests.Gateway;

/// <summary>
/// A command the saga sent and never heard back about (lost as the broker went down, after the saga was saved): a
/// <see cref="SignupStalled"/> (the gateway's sweeper) makes the saga send what its state says is outstanding again,
/// and touch the signup; in a state with nothing outstanding, or about a signup that changed since, it changes nothing.
/// Run on MassTransit's in-memory repository and on our SQLite one.
/// </summary>
public abstract class SignupResendSpecs : ClockedSagaSpecs
{
    int _nudges;

    /// <summary>Publishes a nudge about the signup as unchanged since <paramref name="since"/> (now by default) and waits until the saga took it.</summary>
    async Task Nudge(DateTimeOffset? since = null)
    {
        await Saga.Publish(new SignupStalled(Id, since ?? Clock.GetUtcNow()));
        var expected = ++_nudges;
        await Eventually.True(() => Saga.Harness.Consumed.Select<SignupStalled>().Count(x => x.Context.Message.SignupId == Id) == expected,
            what: $"nudge {expected} consumed");
    }

    Task Sent<T>(Func<T, bool> filter, int count, string what) where T : class =>
        Eventually.True(() => Saga.SentCount(filter) == count, what: what);

    [Fact]
    public async Task A_signup_left_inviting_should_send_the_invite_again_and_wait_another_interval()
    {
        await Saga.ReachInviting(Id);
        await Sent<InviteToSlack>(m => m.SignupId == Id, 1, "the first invite");

        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        await Sent<InviteToSlack>(m => m.SignupId == Id && !m.Approved && m.Email == "Ada@Example.com", 2, "the invite sent again");
        var touched = await Saga.WaitFor(Id, s => s.UpdatedAt == Clock.GetUtcNow(), "touched by the nudge");
        Assert.Equal("Inviting", touched.CurrentState);
        Assert.Equal(StepStatus.Running, touched.SlackStatus);

        // The same nudge again (a second gateway's, or one published before the saga handled the first): stale.
        await Nudge(since: Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        Assert.Equal(2, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id));

        await Saga.Publish(new SlackInvited(Id, SlackOutcomes.Invited));
        await Saga.WaitForState(Id, "Completed");
    }

    [Fact]
    public async Task An_approved_signup_left_inviting_should_send_the_approved_invite_again()
    {
        await Saga.ReachInviting(Id);
        await Saga.Publish(new ApprovalRequested(Id));
        await Saga.WaitForState(Id, "AwaitingApproval");
        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge(); // waiting on an admin, not on a command
        Assert.Equal(1, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id));

        await Saga.Publish(new SignupApproved(Id, null, Clock.GetUtcNow()));
        await Sent<InviteToSlack>(m => m.SignupId == Id && m.Approved, 1, "the approved invite");
        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        await Sent<InviteToSlack>(m => m.SignupId == Id && m.Approved, 2, "the approved invite sent again");
        Assert.Equal(1, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id && !m.Approved));
    }

    [Fact]
    public async Task A_failed_signup_should_send_again_only_the_undo_still_unanswered()
    {
        await Saga.ReachInviting(Id);
        await Saga.Publish(new SlackInviteFailed(Id, "slack:invalid_email"));
        await Saga.WaitForState(Id, "Failed");
        await Sent<DeleteContact>(m => m.SignupId == Id, 1, "the contact's undo");
        await Sent<MarkSignupFailed>(m => m.SignupId == Id, 1, "the record's undo");

        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        await Sent<DeleteContact>(m => m.SignupId == Id && m.ContactId == "42", 2, "the contact's undo sent again");
        await Sent<MarkSignupFailed>(m => m.SignupId == Id && m.Reason == "slack:invalid_email", 2, "the record's undo sent again");

        await Saga.Publish(new ContactDeleted(Id));
        await Saga.WaitFor(Id, s => s.CrmStatus == StepStatus.Compensated, "contact compensated");
        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        await Sent<MarkSignupFailed>(m => m.SignupId == Id, 3, "the record's undo sent a third time");
        Assert.Equal(2, Saga.SentCount<DeleteContact>(m => m.SignupId == Id));

        // Both undone: nothing is outstanding any more.
        await Saga.Publish(new SignupMarkedFailed(Id));
        var compensated = await Saga.WaitFor(Id, s => s.StoreStatus == StepStatus.Compensated, "record compensated");
        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        Assert.Equal((2, 3), (Saga.SentCount<DeleteContact>(m => m.SignupId == Id), Saga.SentCount<MarkSignupFailed>(m => m.SignupId == Id)));
        Assert.Equal(compensated.UpdatedAt, (await Saga.Loader.Load(Id))!.UpdatedAt);
    }

    [Fact]
    public async Task A_completed_signup_should_ignore_the_nudge()
    {
        await Saga.ReachInviting(Id);
        await Saga.Publish(new SlackInvited(Id, SlackOutcomes.Invited));
        var completed = await Saga.WaitForState(Id, "Completed");

        Clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge();
        var after = await Saga.Loader.Load(Id);
        Assert.Equal(("Completed", completed.UpdatedAt), (after!.CurrentState, after.UpdatedAt));
        Assert.Equal(1, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id));
    }
}

public sealed class Lost_commands_on_the_in_memory_repository : SignupResendSpecs
{
    protected override ISagaRepositoryRegistrationProvider? Repository() => null;
}

public sealed class Lost_commands_on_the_sqlite_repository : SignupResendSpecs
{
    protected override ISagaRepositoryRegistrationProvider? Repository() =>
        SagaStoreRepositoryRegistrationProvider.Sqlite(new SqliteDatabase(Directory.File("gateway.db")));

    [Fact]
    public async Task The_sweeper_should_nudge_only_signups_unchanged_for_the_interval_since_a_disruption_and_not_final_or_overdue_ones()
    {
        var store = new SqliteSagaStore<SignupState>(new SqliteDatabase(Directory.File("gateway.db")));
        var disruptions = new BrokerDisruptions(Clock); // as the gateway starts: what changed before may have lost a send
        var sweeper = new SignupDeadlineSweeper(store, Saga.Harness.Bus, Deadlines, disruptions, Clock, NullLogger<SignupDeadlineSweeper>.Instance);
        var completed = Guid.NewGuid();
        await Saga.ReachInviting(Id);
        await Saga.ReachInviting(completed);
        await Saga.Publish(new SlackInvited(completed, SlackOutcomes.Invited));
        await Saga.WaitForState(completed, "Completed");

        Clock.Advance(TimeSpan.FromMinutes(1)); // fresh: the invite may still be on its way
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));

        Clock.Advance(TimeSpan.FromMinutes(2)); // 3 minutes unchanged, past Signup:ResendAfter (2)
        Assert.Equal(new SweepResult(0, 1), await sweeper.Sweep(CancellationToken.None));
        Assert.Equal(Id, Saga.Harness.Published.Select<SignupStalled>().Single().Context.Message.SignupId);
        await Eventually.True(() => Saga.SentCount<InviteToSlack>(m => m.SignupId == Id) == 2, what: "the invite sent again");
        await Saga.WaitFor(Id, s => s.UpdatedAt == Clock.GetUtcNow(), "touched by the nudge");
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None)); // touched: another interval

        // Unchanged for the interval again, but sent again since the last disruption: queued, not lost.
        Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));
        disruptions.Mark("the broker connection dropped");
        Assert.Equal(new SweepResult(0, 1), await sweeper.Sweep(CancellationToken.None));
        await Eventually.True(() => Saga.SentCount<InviteToSlack>(m => m.SignupId == Id) == 3, what: "the invite sent a third time");
        await Saga.WaitFor(Id, s => s.UpdatedAt == Clock.GetUtcNow(), "touched by the second nudge");

        // Past its deadline it is timed out, not nudged; failed, its unanswered undo is nudged after the interval and a
        // disruption.
        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(new SweepResult(1, 0), await sweeper.Sweep(CancellationToken.None));
        await Saga.WaitForState(Id, "Failed");
        await Eventually.True(() => Saga.SentCount<DeleteContact>(m => m.SignupId == Id) == 1, what: "the contact's undo");
        Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));
        disruptions.Mark("a send failed");
        Assert.Equal(new SweepResult(0, 1), await sweeper.Sweep(CancellationToken.None));
        await Eventually.True(() => Saga.SentCount<DeleteContact>(m => m.SignupId == Id) == 2, what: "the contact's undo sent again");
        await Eventually.True(() => Saga.SentCount<MarkSignupFailed>(m => m.SignupId == Id && m.Reason == "timeout:slack") == 2,
            what: "the record's undo sent again");

        Assert.Equal(1, Saga.SentCount<InviteToSlack>(m => m.SignupId == completed));
        Assert.DoesNotContain(Saga.Harness.Published.Select<SignupStalled>(), x => x.Context.Message.SignupId == completed);
    }

    [Fact]
    public async Task The_sweeper_should_have_a_confirmation_mail_never_reported_sent_mailed_afresh_and_not_one_reported_sent()
    {
        var store = new SqliteSagaStore<SignupState>(new SqliteDatabase(Directory.File("gateway.db")));
        var disruptions = new BrokerDisruptions(Clock);
        var sweeper = new SignupDeadlineSweeper(store, Saga.Harness.Bus, Deadlines, disruptions, Clock, NullLogger<SignupDeadlineSweeper>.Instance);
        SendConfirmationMail[] Mails(Guid id) => Saga.Harness.Sent.Select<SendConfirmationMail>(new CancellationToken(true))
            .Select(m => m.Context.Message).Where(m => m.SignupId == id).ToArray();
        var reported = Guid.NewGuid();
        foreach (var id in new[] { Id, reported })
        {
            await Saga.Publish(new SignupConfirmationRequested(id, "Ada Lovelace", $"{id}@example.com", $"{id}@example.com", Clock.GetUtcNow()));
            await Eventually.True(() => Mails(id).Length == 1, what: "the first mail");
        }
        await Saga.Publish(new ConfirmationMailSent(reported, ConfirmationTokens.Hash(Mails(reported)[0].Token)));
        await Saga.WaitFor(reported, s => s.ConfirmationMailSentAt is not null, "the mail reported sent");

        // Both unchanged since the gateway started; only the mail never reported sent is nudged, and mailed afresh.
        Clock.Advance(SignupStateMachine.ConfirmationResendInterval + TimeSpan.FromMinutes(1));
        Assert.Equal(new SweepResult(0, 1), await sweeper.Sweep(CancellationToken.None));
        await Eventually.True(() => Mails(Id).Length == 2, what: "a fresh mail");
        await Saga.WaitFor(Id, s => s.UpdatedAt == Clock.GetUtcNow(), "touched by the nudge");
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));

        // The fresh mail reported sent: after the next disruption nothing is pending any more.
        await Saga.Publish(new ConfirmationMailSent(Id, ConfirmationTokens.Hash(Mails(Id)[1].Token)));
        await Saga.WaitFor(Id, s => s.ConfirmationMailSentAt is not null, "the fresh mail reported sent");
        Clock.Advance(TimeSpan.FromMinutes(10));
        disruptions.Mark("the broker connection dropped");
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));
        Assert.Equal((2, 1), (Mails(Id).Length, Mails(reported).Length));
        Assert.DoesNotContain(Saga.Harness.Published.Select<SignupStalled>(new CancellationToken(true)), x => x.Context.Message.SignupId == reported);
    }
}

public sealed class Configuring_the_resend_interval
{
    static SignupDeadlines From(string? resendAfter) => SignupDeadlines.From(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [SignupDeadlines.ResendAfterKey] = resendAfter })
        .Build());

    [Fact]
    public void Should_default_to_two_minutes() => Assert.Equal(TimeSpan.FromMinutes(2), From(null).ResendAfter);

    [Fact]
    public void Should_read_the_configured_interval() => Assert.Equal(TimeSpan.FromSeconds(5), From("00:00:05").ResendAfter);

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:01:00")]
    public void Should_refuse_an_interval_that_is_not_positive(string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => From(value));
        Assert.Contains("Signup:ResendAfter", refused.Message);
    }
}
