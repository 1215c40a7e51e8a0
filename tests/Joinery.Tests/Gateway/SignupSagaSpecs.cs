using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Events;

namespace Joinery.Tests.Gateway;

/// <summary>
/// The saga's behaviour, written once and run against MassTransit's in-memory repository and our SQLite one,
/// as MassTransit's Sample-Library does.
/// </summary>
public abstract class SignupSagaSpecs : IAsyncLifetime
{
    readonly TempDirectory _directory = new();
    MongoTestDatabase? _mongo;
    SignupSagaHarness? _saga;
    readonly Guid _id = Guid.NewGuid();

    protected SignupSagaHarness Saga => MongoTestDatabase.Require(_saga);

    protected abstract Repository Kind { get; }

    protected enum Repository { InMemory, Sqlite, MongoDb }

    public async Task InitializeAsync()
    {
        switch (Kind)
        {
            case Repository.InMemory:
                _saga = await SignupSagaHarness.Start(null);
                break;
            case Repository.Sqlite:
                _saga = await SignupSagaHarness.Start(SagaStoreRepositoryRegistrationProvider.Sqlite(new SqliteDatabase(_directory.File("gateway.db"))));
                break;
            case Repository.MongoDb:
                _mongo = MongoTestDatabase.CreateIfAvailable();
                if (_mongo is not null)
                    _saga = await SignupSagaHarness.Start(SagaStoreRepositoryRegistrationProvider.Mongo(_mongo.Database));
                break;
        }
    }

    public async Task DisposeAsync()
    {
        if (_saga is not null)
            await _saga.DisposeAsync();
        if (_mongo is not null)
            await _mongo.DisposeAsync();
        _directory.Dispose();
    }

    SignupRequested Requested => new(_id, "Ada Lovelace", "Ada@Example.com", "ada@example.com", DateTimeOffset.UtcNow);

    Task<bool> InviteSent() => Saga.WaitForSent<InviteToSlack>(m => m.SignupId == _id);

    [SkippableFact]
    public async Task Submitting_a_signup_should_reach_completed()
    {
        var inviting = await Saga.ReachInviting(_id);
        Assert.True(await InviteSent());
        Assert.Equal(StepStatus.Done, inviting.StoreStatus);
        Assert.Equal(StepStatus.Done, inviting.CrmStatus);
        Assert.Equal("ada@example.com", inviting.NormalizedEmail);

        await Saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited));
        var completed = await Saga.WaitForState(_id, "Completed");
        Assert.Equal(StepStatus.Done, completed.SlackStatus);
        Assert.Null(completed.FailureReason);
        Assert.Equal(0, Saga.SentCount<DeleteContact>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task Outcomes_arriving_before_the_request_should_wait_for_it()
    {
        await Saga.Publish(new SignupStored(_id));
        await Saga.Publish(new ContactSynced(_id, "7", Created: false, Skipped: false));
        var processing = await Saga.WaitFor(_id, s => s.StoreStatus == StepStatus.Done && s.CrmStatus == StepStatus.Done, "both steps done");
        Assert.Equal("Processing", processing.CurrentState);
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == _id));

        await Saga.Publish(Requested);
        await Saga.WaitForState(_id, "Inviting");
        Assert.True(await InviteSent());
        var invite = Saga.Harness.Sent.Select<InviteToSlack>().Single(x => x.Context.Message.SignupId == _id).Context.Message;
        Assert.Equal("Ada@Example.com", invite.Email);
    }

    [SkippableFact]
    public async Task Duplicate_outcomes_should_send_one_invite()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id));
        await Saga.Publish(new SignupStored(_id));
        await Saga.Publish(new ContactSynced(_id, "42", true, false));
        await Saga.Publish(new ContactSynced(_id, "42", true, false));
        await Saga.Publish(Requested);
        await Saga.WaitForState(_id, "Inviting");
        await Saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited));
        await Saga.Publish(new SlackInvited(_id, SlackOutcomes.AlreadyInvited));
        await Saga.WaitForState(_id, "Completed");

        await Eventually.True(() => Saga.Harness.Consumed.Select<SlackInvited>().Count(x => x.Context.Message.SignupId == _id) == 2,
            what: "both SlackInvited consumed");
        await Eventually.True(() => Saga.Harness.Consumed.Select<ContactSynced>().Count(x => x.Context.Message.SignupId == _id) == 2,
            what: "both ContactSynced consumed");
        Assert.Equal(1, Saga.SentCount<InviteToSlack>(m => m.SignupId == _id));
        var final = await Saga.Loader.Load(_id);
        Assert.Equal(SlackOutcomes.Invited, final.SlackDetail);
    }

    [SkippableFact]
    public async Task A_store_failure_should_delete_the_contact_this_signup_created()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new ContactSynced(_id, "42", Created: true, Skipped: false));
        await Saga.WaitFor(_id, s => s.CrmStatus == StepStatus.Done, "crm done");
        await Saga.Publish(new SignupStoreFailed(_id, "store:email_already_registered"));

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.Equal("store:email_already_registered", failed.FailureReason);
        Assert.Equal(StepStatus.Compensating, failed.CrmStatus);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == _id && m.ContactId == "42"));
        Assert.Equal(0, Saga.SentCount<MarkSignupFailed>(m => m.SignupId == _id));
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == _id));

        await Saga.Publish(new ContactDeleted(_id));
        await Saga.WaitFor(_id, s => s.CrmStatus == StepStatus.Compensated, "crm compensated");
    }

    [SkippableFact]
    public async Task A_crm_failure_should_mark_the_stored_record_failed()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id));
        await Saga.WaitFor(_id, s => s.StoreStatus == StepStatus.Done, "store done");
        await Saga.Publish(new ContactSyncFailed(_id, "activecampaign:422:email_invalid"));

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.Equal("activecampaign:422:email_invalid", failed.FailureReason);
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == _id && m.Reason == "activecampaign:422:email_invalid"));

        await Saga.Publish(new SignupMarkedFailed(_id));
        var compensated = await Saga.WaitFor(_id, s => s.StoreStatus == StepStatus.Compensated, "store compensated");
        Assert.Equal(StepStatus.Failed, compensated.CrmStatus);
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task A_slack_failure_should_compensate_both_steps()
    {
        await Saga.ReachInviting(_id);
        await Saga.Publish(new SlackInviteFailed(_id, "slack:invalid_email"));

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.Equal("slack:invalid_email", failed.FailureReason);
        Assert.Equal(StepStatus.Failed, failed.SlackStatus);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == _id));
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task A_contact_that_existed_before_should_not_be_deleted()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id));
        await Saga.Publish(new ContactSynced(_id, "42", Created: false, Skipped: false));
        await Saga.WaitForState(_id, "Inviting");
        await Saga.Publish(new SlackInviteFailed(_id, "slack:not_allowed"));

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.True(await Saga.WaitForSent<MarkSignupFailed>(m => m.SignupId == _id));
        Assert.Equal(StepStatus.Done, failed.CrmStatus);
        Assert.Equal(0, Saga.SentCount<DeleteContact>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task A_step_finishing_after_the_failure_should_be_compensated()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStoreFailed(_id, "store:email_already_registered"));
        await Saga.WaitForState(_id, "Failed");

        await Saga.Publish(new ContactSynced(_id, "99", Created: true, Skipped: false));
        var compensating = await Saga.WaitFor(_id, s => s.CrmStatus == StepStatus.Compensating, "late contact compensated");
        Assert.Equal("Failed", compensating.CurrentState);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == _id && m.ContactId == "99"));
        Assert.Equal(0, Saga.SentCount<InviteToSlack>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task Slack_giving_up_should_fail_and_compensate()
    {
        await Saga.ReachInviting(_id);
        await Saga.Harness.Bus.Publish<Fault<InviteToSlack>>(new
        {
            Message = new InviteToSlack(_id, "Ada", "ada@example.com"),
            Exceptions = new[] { new FaultExceptionInfo(new InvalidOperationException("Slack answered 503")) },
        });

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.Equal("slack:unavailable", failed.FailureReason);
        Assert.Contains("503", failed.SlackDetail);
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == _id));
    }

    [SkippableFact]
    public async Task A_compensation_that_could_not_be_done_should_say_so()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new ContactSynced(_id, "42", Created: true, Skipped: false));
        await Saga.WaitFor(_id, s => s.CrmStatus == StepStatus.Done, "crm done");
        await Saga.Publish(new SignupStoreFailed(_id, "store:email_already_registered"));
        await Saga.WaitForState(_id, "Failed");
        // A fault of the undo can only follow the undo itself; waiting for the send also waits for the failure to be
        // saved (the outbox releases sends after the save), which the in-memory repository's live instance runs ahead of.
        Assert.True(await Saga.WaitForSent<DeleteContact>(m => m.SignupId == _id));
        await Saga.Harness.Bus.Publish<Fault<DeleteContact>>(new
        {
            Message = new DeleteContact(_id, "42"),
            Exceptions = new[] { new FaultExceptionInfo(new InvalidOperationException("ActiveCampaign answered 403")) },
        });

        var state = await Saga.WaitFor(_id, s => s.CrmStatus == StepStatus.CompensationFailed, "crm compensation failed");
        Assert.Contains("403", state.CrmDetail);
        Assert.Equal("Failed", state.CurrentState);
    }

    [SkippableFact]
    public async Task Unconfigured_steps_should_be_skipped_and_the_signup_completed()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id));
        await Saga.Publish(new ContactSynced(_id, null, Created: false, Skipped: true));
        await Saga.WaitForState(_id, "Inviting");
        await Saga.Publish(new SlackInvited(_id, SlackOutcomes.Skipped));

        var completed = await Saga.WaitForState(_id, "Completed");
        Assert.Equal(StepStatus.Skipped, completed.CrmStatus);
        Assert.Equal(StepStatus.Skipped, completed.SlackStatus);
    }

    [SkippableFact]
    public async Task Each_step_keeps_the_attempts_its_outcome_reported()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id, Attempts: 1));
        await Saga.Publish(new ContactSynced(_id, "42", Created: true, Skipped: false, Attempts: 3));
        // A duplicate of an earlier delivery reports fewer attempts: it must not lower the count, in either order.
        await Saga.Publish(new ContactSynced(_id, "42", Created: true, Skipped: false, Attempts: 1));
        await Saga.WaitForState(_id, "Inviting");
        await Eventually.True(() => Saga.Harness.Consumed.Select<ContactSynced>().Count(x => x.Context.Message.SignupId == _id) == 2,
            what: "both ContactSynced consumed");
        await Saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited, Attempts: 2));

        var completed = await Saga.WaitForState(_id, "Completed");
        Assert.Equal((1, 3, 2), (completed.StoreAttempts, completed.CrmAttempts, completed.SlackAttempts));
        var status = Joinery.Gateway.Api.SignupStatusView.From(completed);
        Assert.Equal([1, 3, 2], new[] { "store", "crm", "slack" }.Select(step => status.Steps[step].Attempts));
    }

    [SkippableFact]
    public async Task A_failed_step_keeps_the_attempts_it_took_to_give_up()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new ContactSyncFailed(_id, "activecampaign:unavailable", Attempts: 6));

        var failed = await Saga.WaitForState(_id, "Failed");
        Assert.Equal(6, failed.CrmAttempts);
        Assert.Equal(0, failed.StoreAttempts);
    }

    [SkippableFact]
    public async Task An_outcome_without_attempts_leaves_the_count_unreported()
    {
        await Saga.Publish(Requested);
        await Saga.Publish(new SignupStored(_id));

        var state = await Saga.WaitFor(_id, s => s.StoreStatus == StepStatus.Done, "store done");
        Assert.Equal(0, state.StoreAttempts);
    }
}

public sealed class Signup_saga_on_the_in_memory_repository : SignupSagaSpecs
{
    protected override Repository Kind => Repository.InMemory;
}

public sealed class Signup_saga_on_the_sqlite_repository : SignupSagaSpecs
{
    protected override Repository Kind => Repository.Sqlite;
}

public sealed class Signup_saga_on_the_mongodb_repository : SignupSagaSpecs
{
    protected override Repository Kind => Repository.MongoDb;
}
