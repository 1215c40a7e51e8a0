using Joinery.Contracts;
using Joinery.Gateway.Confirmation;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>
/// Double opt-in in the saga: a signup asked to confirm waits in AwaitingConfirmation with the link mailed and nothing
/// else started; the confirmation starts the steps; a signup never confirmed times out with nothing to undo. On
/// MassTransit's in-memory repository and on our SQLite one (the new fields must survive a save).
/// </summary>
public abstract class ConfirmationSagaSpecs : IAsyncLifetime
{
    static readonly SignupDeadlines Deadlines = new()
    {
        Deadline = TimeSpan.FromMinutes(10),
        ConfirmationDeadline = TimeSpan.FromHours(48),
        SweepInterval = TimeSpan.FromSeconds(1),
    };

    readonly TempDirectory _directory = new();
    readonly ManualClock _clock = new(DateTimeOffset.Parse("2026-11-25T10:00:00Z"));
    readonly Guid _id = Guid.NewGuid();
    SignupSagaHarness _saga = null!;

    protected abstract bool Sqlite { get; }

    public async Task InitializeAsync() =>
        _saga = await SignupSagaHarness.Start(Sqlite
                ? SagaStoreRepositoryRegistrationProvider.Sqlite(new SqliteDatabase(_directory.File("gateway.db")))
                : null,
            services => services.AddSingleton<TimeProvider>(_clock).AddSingleton(Deadlines));

    public async Task DisposeAsync()
    {
        await _saga.DisposeAsync();
        _directory.Dispose();
    }

    SignupConfirmationRequested Request => new(_id, "Ada Lovelace", "Ada@Example.com", "ada@example.com", _clock.GetUtcNow());

    int RequestsPublished => _saga.Harness.Published.Select<SignupRequested>(new CancellationToken(true)).Count(m => m.Context.Message.SignupId == _id);

    SendConfirmationMail[] Mails => _saga.Harness.Sent.Select<SendConfirmationMail>(new CancellationToken(true))
        .Select(m => m.Context.Message).Where(m => m.SignupId == _id).ToArray();

    async Task<SignupState> AwaitingConfirmation()
    {
        await _saga.Publish(Request);
        var waiting = await _saga.WaitForState(_id, "AwaitingConfirmation");
        await _saga.WaitForSent<SendConfirmationMail>(m => m.SignupId == _id);
        return waiting;
    }

    [Fact]
    public async Task A_confirmation_request_should_mail_a_link_and_start_no_step()
    {
        var waiting = await AwaitingConfirmation();

        var mail = Assert.Single(Mails);
        Assert.Equal("Ada@Example.com", mail.Email);
        Assert.Equal(DateTimeOffset.Parse("2026-11-27T10:00:00Z"), mail.ExpiresAt);
        Assert.Equal(mail.ExpiresAt, waiting.Deadline);
        // Only the token's hash is kept: the store cannot confirm anyone.
        Assert.True(ConfirmationTokens.Matches(waiting.ConfirmationTokenHashes, mail.Token));
        Assert.DoesNotContain(mail.Token, waiting.ConfirmationTokenHashes);
        Assert.Equal(0, RequestsPublished);
        Assert.Equal(StepStatus.Pending, waiting.StoreStatus);
        Assert.Equal(StepStatus.Pending, waiting.CrmStatus);
        Assert.False(waiting.Requested);
    }

    [Fact]
    public async Task Confirming_should_publish_SignupRequested_and_run_on_to_completed()
    {
        await AwaitingConfirmation();
        _clock.Advance(TimeSpan.FromHours(1));

        await _saga.Publish(new EmailConfirmed(_id, _clock.GetUtcNow()));

        // The saga publishes the request (store and crm-sync start only now) and takes it itself.
        var processing = await _saga.WaitFor(_id, s => s.CurrentState == "Processing" && s.Requested, "confirmed and requested");
        Assert.Equal(_clock.GetUtcNow(), processing.EmailConfirmedAt);
        Assert.Equal(_clock.GetUtcNow() + Deadlines.Deadline, processing.Deadline);
        await Eventually.True(() => RequestsPublished == 1, what: "SignupRequested published by the saga");
        var request = _saga.Harness.Published.Select<SignupRequested>(new CancellationToken(true)).Single(m => m.Context.Message.SignupId == _id).Context.Message;
        Assert.Equal(("Ada Lovelace", "Ada@Example.com", "ada@example.com"), (request.Name, request.Email, request.NormalizedEmail));

        await _saga.Publish(new SignupStored(_id));
        await _saga.Publish(new ContactSynced(_id, "42", Created: true, Skipped: false));
        await _saga.WaitForState(_id, "Inviting");
        await _saga.WaitForSent<InviteToSlack>(m => m.SignupId == _id);
        await _saga.Publish(new SlackInvited(_id, SlackOutcomes.Invited));

        var completed = await _saga.WaitForState(_id, "Completed");
        Assert.NotNull(completed.EmailConfirmedAt);
        Assert.Null(completed.FailureReason);
    }

    [Fact]
    public async Task A_second_confirmation_should_be_ignored()
    {
        await AwaitingConfirmation();

        await _saga.Publish(new EmailConfirmed(_id, _clock.GetUtcNow()));
        await _saga.WaitFor(_id, s => s.Requested, "confirmed and requested");
        var firstConfirmation = (await _saga.Loader.Load(_id))!.EmailConfirmedAt;
        _clock.Advance(TimeSpan.FromMinutes(1));
        await _saga.Publish(new EmailConfirmed(_id, _clock.GetUtcNow()));
        var after = await _saga.WaitForState(_id, "Processing");

        Assert.Equal(firstConfirmation, after.EmailConfirmedAt);
        Assert.Equal(1, RequestsPublished);
    }

    [Fact]
    public async Task A_signup_never_confirmed_should_time_out_with_nothing_to_undo()
    {
        var waiting = await AwaitingConfirmation();
        // The sweeper's own view: overdue only past the confirmation deadline, waiting for "confirmation".
        Assert.False(SignupDeadlines.Overdue(_clock.GetUtcNow() + TimeSpan.FromHours(47)).Compile()(waiting));
        Assert.True(SignupDeadlines.Overdue(_clock.GetUtcNow() + TimeSpan.FromHours(49)).Compile()(waiting));
        Assert.Equal("confirmation", SignupDeadlines.WaitingStep(waiting));

        _clock.Advance(TimeSpan.FromHours(49));
        await _saga.Publish(new SignupTimedOut(_id, "confirmation", waiting.Deadline!.Value));

        var failed = await _saga.WaitForState(_id, "Failed");
        Assert.Equal("timeout:confirmation", failed.FailureReason);
        Assert.Equal(StepStatus.Pending, failed.StoreStatus);
        Assert.Equal(StepStatus.Pending, failed.CrmStatus);
        Assert.Equal(0, _saga.SentCount<DeleteContact>(m => m.SignupId == _id));
        Assert.Equal(0, _saga.SentCount<MarkSignupFailed>(m => m.SignupId == _id));
        Assert.Equal(0, RequestsPublished);

        // A confirmation after the timeout starts nothing.
        await _saga.Publish(new EmailConfirmed(_id, _clock.GetUtcNow()));
        Assert.Equal("Failed", (await _saga.WaitForState(_id, "Failed")).CurrentState);
        Assert.Equal(0, RequestsPublished);
    }

    [Fact]
    public async Task An_early_timeout_should_change_nothing()
    {
        await AwaitingConfirmation();
        _clock.Advance(TimeSpan.FromHours(47));

        await _saga.Publish(new SignupTimedOut(_id, "confirmation", _clock.GetUtcNow()));

        Assert.Null((await _saga.WaitForState(_id, "AwaitingConfirmation")).FailureReason);
    }

    [Fact]
    public async Task Asking_again_should_mail_a_fresh_link_at_most_every_few_minutes_and_keep_the_first_valid()
    {
        await AwaitingConfirmation();

        await _saga.Publish(Request);
        await _saga.WaitForState(_id, "AwaitingConfirmation");
        Assert.Single(Mails);

        _clock.Advance(SignupStateMachine.ConfirmationResendInterval);
        await _saga.Publish(Request);
        await Eventually.True(() => Mails.Length == 2, what: "a second mail");
        var saga = await _saga.WaitForState(_id, "AwaitingConfirmation");

        Assert.NotEqual(Mails[0].Token, Mails[1].Token);
        Assert.All(Mails, m => Assert.True(ConfirmationTokens.Matches(saga.ConfirmationTokenHashes, m.Token)));
        Assert.Equal(Mails[0].ExpiresAt, Mails[1].ExpiresAt); // a re-send does not extend the deadline
    }

    int _nudges;

    /// <summary>The sweeper's nudge about the signup as unchanged since <paramref name="since"/>; waits until the saga took it.</summary>
    async Task Nudge(DateTimeOffset since)
    {
        await _saga.Publish(new SignupStalled(_id, since));
        var expected = ++_nudges;
        await Eventually.True(() => _saga.Harness.Consumed.Select<SignupStalled>(new CancellationToken(true))
            .Count(m => m.Context.Message.SignupId == _id) == expected, what: $"nudge {expected} consumed");
    }

    [Fact]
    public async Task A_mail_never_reported_sent_should_be_mailed_afresh_when_nudged_at_most_every_few_minutes()
    {
        var waiting = await AwaitingConfirmation();
        Assert.Null(waiting.ConfirmationMailSentAt);
        var mailedAt = waiting.UpdatedAt; // a value: the in-memory repository hands out its live instance

        // Within the re-send interval the nudge changes nothing: the first mail may still be retrying.
        _clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge(since: mailedAt);
        Assert.Single(Mails);
        Assert.Equal(mailedAt, (await _saga.Loader.Load(_id))!.UpdatedAt);

        _clock.Advance(TimeSpan.FromMinutes(3));
        await Nudge(since: mailedAt);
        await Eventually.True(() => Mails.Length == 2, what: "a fresh mail");
        var resent = await _saga.WaitFor(_id, s => s.UpdatedAt == _clock.GetUtcNow(), "touched by the nudge");
        Assert.Equal("AwaitingConfirmation", resent.CurrentState);
        Assert.Null(resent.ConfirmationMailSentAt);
        Assert.NotEqual(Mails[0].Token, Mails[1].Token);
        Assert.All(Mails, m => Assert.True(ConfirmationTokens.Matches(resent.ConfirmationTokenHashes, m.Token)));
        Assert.Equal(Mails[0].ExpiresAt, Mails[1].ExpiresAt);

        // A nudge published before the saga re-sent (a second gateway's) is stale, even past the interval.
        _clock.Advance(TimeSpan.FromMinutes(6));
        await Nudge(since: mailedAt);
        Assert.Equal(2, Mails.Length);

        // A late report about the first mail leaves the fresh one pending; the fresh one's report settles it.
        await _saga.Publish(new ConfirmationMailSent(_id, ConfirmationTokens.Hash(Mails[0].Token)));
        await Eventually.True(() => _saga.Harness.Consumed.Select<ConfirmationMailSent>(new CancellationToken(true))
            .Count(m => m.Context.Message.SignupId == _id) == 1, what: "the late report consumed");
        Assert.Null((await _saga.Loader.Load(_id))!.ConfirmationMailSentAt);
        await _saga.Publish(new ConfirmationMailSent(_id, ConfirmationTokens.Hash(Mails[1].Token)));
        var sent = await _saga.WaitFor(_id, s => s.ConfirmationMailSentAt is not null, "the fresh mail reported sent");
        Assert.Equal((_clock.GetUtcNow(), _clock.GetUtcNow()), (sent.ConfirmationMailSentAt!.Value, sent.UpdatedAt));
    }

    [Fact]
    public async Task A_mail_reported_sent_should_not_be_mailed_again_when_nudged_until_a_fresh_one_is_asked_for()
    {
        await AwaitingConfirmation();
        _clock.Advance(TimeSpan.FromSeconds(2));
        await _saga.Publish(new ConfirmationMailSent(_id, ConfirmationTokens.Hash(Assert.Single(Mails).Token)));
        var sent = await _saga.WaitFor(_id, s => s.ConfirmationMailSentAt is not null, "the mail reported sent");
        var reportedAt = sent.UpdatedAt;
        Assert.Equal(_clock.GetUtcNow(), reportedAt);

        // Unread, not lost: the nudge (were the sweeper to publish one) changes nothing.
        _clock.Advance(TimeSpan.FromMinutes(10));
        await Nudge(since: reportedAt);
        Assert.Single(Mails);
        Assert.Equal(reportedAt, (await _saga.Loader.Load(_id))!.UpdatedAt);

        // The visitor asks again: the fresh mail is pending until reported, and a nudge after it mails another one.
        await _saga.Publish(Request);
        await Eventually.True(() => Mails.Length == 2, what: "the fresh mail asked for");
        var askedAt = (await _saga.WaitFor(_id, s => s.ConfirmationMailSentAt is null && s.UpdatedAt == _clock.GetUtcNow(), "the fresh mail pending")).UpdatedAt;
        _clock.Advance(SignupStateMachine.ConfirmationResendInterval);
        await Nudge(since: askedAt);
        await Eventually.True(() => Mails.Length == 3, what: "the fresh mail sent again");
    }
}

public sealed class ConfirmationSagaSpecs_InMemory : ConfirmationSagaSpecs
{
    protected override bool Sqlite => false;
}

public sealed class ConfirmationSagaSpecs_Sqlite : ConfirmationSagaSpecs
{
    protected override bool Sqlite => true;
}

/// <summary>The confirmation link's token: unguessable, stored only as a hash, a bounded number kept.</summary>
public sealed class Checking_a_confirmation_token
{
    [Fact]
    public void Should_match_only_the_tokens_it_remembered_and_forget_the_oldest_beyond_the_limit()
    {
        var tokens = Enumerable.Range(0, ConfirmationTokens.Kept + 1).Select(_ => ConfirmationTokens.New()).ToList();
        string? hashes = null;
        foreach (var token in tokens)
            hashes = ConfirmationTokens.Remember(hashes, token);

        Assert.False(ConfirmationTokens.Matches(hashes, tokens[0]));
        Assert.All(tokens.Skip(1), t => Assert.True(ConfirmationTokens.Matches(hashes, t)));
        Assert.False(ConfirmationTokens.Matches(hashes, tokens[1] + "x"));
        Assert.False(ConfirmationTokens.Matches(hashes, ""));
        Assert.False(ConfirmationTokens.Matches(null, tokens[1]));
        Assert.True(tokens[1].Length >= 43); // 256 bits
    }
}
