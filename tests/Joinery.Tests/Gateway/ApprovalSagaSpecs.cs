using Joinery.Contracts;
using Joinery.Gateway.Api;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;

namespace Joinery.Tests.Gateway;

/// <summary>The saga's approval flow, on MassTransit's in-memory repository and on our SQLite one.</summary>
public abstract class ApprovalSagaSpecs : IAsyncLifetime
{
    readonly TempDirectory _directory = new();
    readonly Guid _id = Guid.NewGuid();
    SignupSagaHarness _saga = null!;

    protected abstract bool Sqlite { get; }

    public async Task InitializeAsync() =>
        _saga = await SignupSagaHarness.Start(Sqlite
            ? SagaStoreRepositoryRegistrationProvider.Sqlite(new SqliteDatabase(_directory.File("gateway.db")))
            : null);

    public async Task DisposeAsync()
    {
        await _saga.DisposeAsync();
        _directory.Dispose();
    }

    async Task<SignupState> AwaitingApproval()
    {
        await _saga.ReachInviting(_id);
        await _saga.Publish(new ApprovalRequested(_id));
        return await _saga.WaitForState(_id, "AwaitingApproval");
    }

    [Fact]
    public async Task Asking_for_approval_waits_and_the_status_says_so()
    {
        var waiting = await AwaitingApproval();

        Assert.Equal(StepStatus.AwaitingApproval, waiting.SlackStatus);
        var view = SignupStatusView.From(waiting);
        Assert.Equal("AwaitingApproval", view.Status);
        Assert.False(view.Final);
        Assert.Equal(StepStatus.AwaitingApproval, view.Steps["slack"].Status);
        Assert.Equal(1, _saga.SentCount<InviteToSlack>(m => m.SignupId == _id));
    }

    [Fact]
    public async Task Approval_sends_the_invite_again_marked_approved_and_the_outcome_completes_it()
    {
        await AwaitingApproval();

        await _saga.Publish(new SignupApproved(_id, "admin", DateTimeOffset.UtcNow));
        var inviting = await _saga.WaitFor(_id, s => s.CurrentState == "Inviting" && s.ApprovalBy == "admin", "approved and inviting");
        Assert.Equal(StepStatus.Running, inviting.SlackStatus);
        await Eventually.True(() => _saga.SentCount<InviteToSlack>(m => m.SignupId == _id && m.Approved) == 1, what: "an approved InviteToSlack");
        Assert.Equal(1, _saga.SentCount<InviteToSlack>(m => m.SignupId == _id && !m.Approved));

        await _saga.Publish(new SlackInvited(_id, SlackOutcomes.InvitedByAdmin));
        var completed = await _saga.WaitForState(_id, "Completed");
        Assert.Equal(SlackOutcomes.InvitedByAdmin, completed.SlackDetail);
        Assert.Equal(StepStatus.Done, completed.SlackStatus);
        Assert.Equal(0, _saga.SentCount<DeleteContact>(m => m.SignupId == _id));
    }

    [Fact]
    public async Task Rejection_fails_the_signup_as_admin_rejected_and_compensates()
    {
        await AwaitingApproval();

        await _saga.Publish(new SignupRejected(_id, "not a community member", "admin", DateTimeOffset.UtcNow));

        var failed = await _saga.WaitForState(_id, "Failed");
        Assert.Equal("admin:rejected", failed.FailureReason);
        Assert.Equal(StepStatus.Rejected, failed.SlackStatus);
        Assert.Equal("not a community member", failed.SlackDetail);
        await Eventually.True(() => _saga.SentCount<DeleteContact>(m => m.SignupId == _id && m.ContactId == "42") == 1, what: "DeleteContact");
        await Eventually.True(() => _saga.SentCount<MarkSignupFailed>(m => m.SignupId == _id && m.Reason == "admin:rejected") == 1, what: "MarkSignupFailed");
        Assert.Equal(0, _saga.SentCount<InviteToSlack>(m => m.Approved));
    }

    [Fact]
    public async Task A_decision_for_a_signup_that_is_not_waiting_changes_nothing()
    {
        await _saga.ReachInviting(_id);

        await _saga.Publish(new SignupRejected(_id, null, "admin", DateTimeOffset.UtcNow));
        await _saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited));

        var completed = await _saga.WaitForState(_id, "Completed");
        Assert.Null(completed.FailureReason);
        Assert.Null(completed.ApprovalBy);
    }

    [Fact]
    public async Task A_second_approval_sends_no_second_invite()
    {
        await AwaitingApproval();

        await _saga.Publish(new SignupApproved(_id, "admin", DateTimeOffset.UtcNow));
        await _saga.WaitFor(_id, s => s.ApprovalBy == "admin", "approved");
        await _saga.Publish(new SignupApproved(_id, "someone else", DateTimeOffset.UtcNow));
        await _saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited));
        var completed = await _saga.WaitForState(_id, "Completed");

        Assert.Equal("admin", completed.ApprovalBy);
        Assert.Equal(1, _saga.SentCount<InviteToSlack>(m => m.SignupId == _id && m.Approved));
    }

    [Fact]
    public async Task A_refusal_while_waiting_fails_the_signup_with_its_reason()
    {
        await AwaitingApproval();

        await _saga.Publish(new SlackInviteFailed(_id, "slack:channel_not_found"));

        Assert.Equal("slack:channel_not_found", (await _saga.WaitForState(_id, "Failed")).FailureReason);
    }
}

public sealed class ApprovalSagaSpecs_InMemory : ApprovalSagaSpecs
{
    protected override bool Sqlite => false;
}

public sealed class ApprovalSagaSpecs_Sqlite : ApprovalSagaSpecs
{
    protected override bool Sqlite => true;
}
