using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Joinery.Tests.Gateway;

/// <summary>
/// A step that never answers: the saga stores a deadline when the signup starts, and a <see cref="SignupTimedOut"/>
/// (the gateway's sweeper) past it fails the signup naming the step and compensates; before the deadline, or once the
/// signup is final, the event changes nothing. Run on MassTransit's in-memory repository and on our SQLite one.
/// </summary>
public abstract class SignupDeadlineSpecs : ClockedSagaSpecs
{
    SignupRequested Requested => new(Id, "Ada Lovelace", "ada@example.com", "ada@example.com", Clock.GetUtcNow());

    Task TimeOut() => Saga.Publish(new SignupTimedOut(Id, "test", Clock.GetUtcNow()));

    [Fact]
    public async Task The_deadline_should_be_stored_when_the_signup_starts()
    {
        await Saga.Publish(Requested);
        var processing = await Saga.WaitForState(Id, "Processing");
        Assert.Equal(DateTimeOffset.Parse("2026-11-25T10:10:00Z"), processing.Deadline);
        Assert.Equal(TimeSpan.Zero, processing.Deadline!.Value.Offset);
    }

    [Fact]
    public async Task A_crm_step_that_never_answers_should_fail_the_signup_and_undo_the_record()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(Id));
        await Saga.WaitFor(Id, s => s.StoreStatus == StepStatus.Done, "stored");

        Clock.Advance(TimeSpan.FromMinutes(11));
        await TimeOut();

        var failed = await Saga.WaitForState(Id, "Failed");
        Assert.Equal("timeout:crm", failed.FailureReason);
        Assert.Equal(StepStatus.Failed, failed.CrmStatus);
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == Id && m.Reason == "timeout:crm"));
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id));

        // The CRM answers at last: the contact it created is deleted, the invite is never sent.
        await Saga.Publish(new ContactSynced(Id, "42", Created: true, Skipped: false));
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == Id && m.ContactId == "42"));
        var after = await Saga.WaitFor(Id, s => s.CrmStatus == StepStatus.Compensating, "crm compensating");
        Assert.Equal("Failed", after.CurrentState);
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == Id));
    }

    [Fact]
    public async Task A_slack_invite_that_never_answers_should_fail_the_signup_and_delete_the_contact()
    {
        await Saga.ReachInviting(Id);

        Clock.Advance(TimeSpan.FromMinutes(10));
        await TimeOut();

        var failed = await Saga.WaitForState(Id, "Failed");
        Assert.Equal("timeout:slack", failed.FailureReason);
        Assert.Equal(StepStatus.Failed, failed.SlackStatus);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == Id && m.ContactId == "42"));
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == Id && m.Reason == "timeout:slack"));

        // A late invite answer does not complete a failed signup.
        await Saga.Publish(new SlackInvited(Id, SlackOutcomes.Invited));
        await Eventually.True(() => Saga.Harness.Consumed.Select<SlackInvited>().Any(x => x.Context.Message.SignupId == Id), what: "late invite consumed");
        Assert.Equal("Failed", (await Saga.Loader.Load(Id))!.CurrentState);
    }

    [Fact]
    public async Task A_timeout_before_the_deadline_should_change_nothing()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(Id));
        await Saga.WaitFor(Id, s => s.StoreStatus == StepStatus.Done, "stored");

        Clock.Advance(TimeSpan.FromMinutes(9));
        await TimeOut();
        await Eventually.True(() => Saga.Harness.Consumed.Select<SignupTimedOut>().Any(x => x.Context.Message.SignupId == Id), what: "timeout consumed");

        await Saga.Publish(new ContactSynced(Id, "42", Created: true, Skipped: false));
        await Saga.WaitForState(Id, "Inviting");
        Assert.Equal(0, Saga.SentCount<MarkSignupFailed>(m => m.SignupId == Id));
    }

    [Fact]
    public async Task A_timeout_of_a_completed_signup_should_be_ignored()
    {
        await Saga.ReachInviting(Id);
        await Saga.Publish(new SlackInvited(Id, SlackOutcomes.Invited));
        await Saga.WaitForState(Id, "Completed");

        Clock.Advance(TimeSpan.FromHours(2));
        await TimeOut();
        await Eventually.True(() => Saga.Harness.Consumed.Select<SignupTimedOut>().Any(x => x.Context.Message.SignupId == Id), what: "timeout consumed");

        var completed = await Saga.Loader.Load(Id);
        Assert.Equal("Completed", completed!.CurrentState);
        Assert.Null(completed.FailureReason);
        Assert.Equal(0, Saga.SentCount<DeleteContact>(m => m.SignupId == Id));
        Assert.Equal(0, Saga.SentCount<MarkSignupFailed>(m => m.SignupId == Id));
    }

    [Fact]
    public async Task Awaiting_approval_should_have_the_longer_deadline_and_then_time_out_naming_the_approval()
    {
        await Saga.ReachInviting(Id);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await Saga.Publish(new ApprovalRequested(Id));
        var waiting = await Saga.WaitForState(Id, "AwaitingApproval");
        Assert.Equal(Clock.GetUtcNow() + Deadlines.ApprovalDeadline, waiting.Deadline);

        Clock.Advance(TimeSpan.FromHours(1)); // past the ordinary deadline, not the approval's
        await TimeOut();
        await Eventually.True(() => Saga.Harness.Consumed.Select<SignupTimedOut>().Any(x => x.Context.Message.SignupId == Id), what: "timeout consumed");
        Assert.Equal("AwaitingApproval", (await Saga.Loader.Load(Id))!.CurrentState);

        Clock.Advance(TimeSpan.FromDays(2));
        await TimeOut();
        var failed = await Saga.WaitForState(Id, "Failed");
        Assert.Equal("timeout:approval", failed.FailureReason);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == Id && m.ContactId == "42"));
    }
}

public sealed class Signup_deadlines_on_the_in_memory_repository : SignupDeadlineSpecs
{
    protected override ISagaRepositoryRegistrationProvider? Repository() => null;
}

public sealed class Signup_deadlines_on_the_sqlite_repository : SignupDeadlineSpecs
{
    protected override ISagaRepositoryRegistrationProvider? Repository() =>
        SagaStoreRepositoryRegistrationProvider.Sqlite(new SqliteDatabase(Directory.File("gateway.db")));

    [Fact]
    public async Task The_sweeper_should_time_out_each_overdue_signup_once_and_leave_the_others()
    {
        var store = new SqliteSagaStore<SignupState>(new SqliteDatabase(Directory.File("gateway.db")));
        var sweeper = new SignupDeadlineSweeper(store, Saga.Harness.Bus, Deadlines, new BrokerDisruptions(Clock), Clock,
            NullLogger<SignupDeadlineSweeper>.Instance);
        var later = Guid.NewGuid();

        await Saga.Publish(new SignupRequested(Id, "Ada Lovelace", "ada@example.com", "ada@example.com", Clock.GetUtcNow()));
        await Saga.Publish(new SignupStored(Id));
        await Saga.WaitFor(Id, s => s.StoreStatus == StepStatus.Done, "stored");
        Clock.Advance(TimeSpan.FromMinutes(5));
        await Saga.Publish(new SignupRequested(later, "Grace Hopper", "grace@example.com", "grace@example.com", Clock.GetUtcNow()));
        await Saga.WaitForState(later, "Processing");

        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));

        Clock.Advance(TimeSpan.FromMinutes(6)); // the first is 11 minutes old, the second 6
        Assert.Equal(new SweepResult(1, 0), await sweeper.Sweep(CancellationToken.None));
        // Published already, not again while the saga works.
        Assert.Equal(new SweepResult(0, 0), await sweeper.Sweep(CancellationToken.None));
        var failed = await Saga.WaitForState(Id, "Failed");
        Assert.Equal("timeout:crm", failed.FailureReason);
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == Id));
        var timedOut = Saga.Harness.Published.Select<SignupTimedOut>().Single().Context.Message;
        Assert.Equal((Id, "crm"), (timedOut.SignupId, timedOut.Step));
        Assert.Equal("Processing", (await store.Load(later))!.CurrentState);

        Clock.Advance(TimeSpan.FromMinutes(5)); // both are past their deadline now; only the one still waiting is overdue
        Assert.Equal(new SweepResult(1, 0), await sweeper.Sweep(CancellationToken.None));
        Assert.Equal("timeout:store", (await Saga.WaitForState(later, "Failed")).FailureReason);
    }
}
