using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Configuration;

namespace Joinery.Tests.Gateway;

/// <summary>What every saga store adapter must do, written once and run against SQLite and MongoDB.</summary>
public abstract class SagaStoreContract(AdapterStorage<ISagaStore<SignupState>> storage) : AdapterContract<ISagaStore<SignupState>>(storage)
{
    /// <summary>Two gateway instances sharing this store's database, for the race test.</summary>
    protected abstract ISagaRepositoryRegistrationProvider RepositoryProvider();

    ISagaStore<SignupState> _store => Adapter;
    protected override Task Initialize(ISagaStore<SignupState> store) => store.Initialize();

    static SignupState NewSaga() => new()
    {
        CorrelationId = Guid.NewGuid(),
        CurrentState = "Processing",
        Name = "Grace Hopper",
        Email = "grace@example.com",
        CrmContactId = "12",
        CrmCreated = true,
        StoreStatus = StepStatus.Done,
        CreatedAt = DateTimeOffset.Parse("2026-11-25T10:00:00Z"),
    };

    [SkippableFact]
    public async Task The_deadline_query_should_find_only_waiting_signups_past_their_deadline()
    {
        var now = DateTimeOffset.Parse("2026-11-25T12:00:00.5Z");
        SignupState With(string state, DateTimeOffset? deadline)
        {
            var saga = NewSaga();
            saga.CurrentState = state;
            saga.Deadline = deadline;
            return saga;
        }
        var overdue = new[]
        {
            With("Processing", now.AddMinutes(-5)),
            With("Inviting", now.AddTicks(-1)),
            With("AwaitingApproval", now.AddDays(-1)),
            // The same instant written with another offset is still before now.
            With("Processing", new DateTimeOffset(2026, 11, 25, 13, 0, 0, TimeSpan.FromHours(2))),
        };
        var notOverdue = new[]
        {
            With("Processing", now.AddSeconds(1)),
            With("Inviting", now.AddMilliseconds(1)),
            With("Completed", now.AddMinutes(-5)),
            With("Failed", now.AddMinutes(-5)),
            With("Processing", null),
        };
        foreach (var saga in overdue.Concat(notOverdue))
        {
            saga.Deadline = saga.Deadline?.ToUniversalTime();
            await _store.Insert(saga);
        }

        var found = await _store.Query(SignupDeadlines.Overdue(now));
        var ids = overdue.Concat(notOverdue).Select(s => s.CorrelationId).ToHashSet();
        Assert.Equal(overdue.Select(s => s.CorrelationId).Order(), found.Select(s => s.CorrelationId).Where(ids.Contains).Order());
    }

    [SkippableFact]
    public async Task The_stalled_query_should_find_only_signups_waiting_on_a_command_unchanged_for_the_interval()
    {
        var now = DateTimeOffset.Parse("2026-11-25T12:00:00.5Z");
        var resendAfter = TimeSpan.FromMinutes(2);
        SignupState With(string state, DateTimeOffset updated, string slack = StepStatus.Pending, string crm = StepStatus.Done,
            string store = StepStatus.Done)
        {
            var saga = NewSaga();
            (saga.CurrentState, saga.UpdatedAt, saga.SlackStatus, saga.CrmStatus, saga.StoreStatus) = (state, updated.ToUniversalTime(), slack, crm, store);
            return saga;
        }
        var stale = now - resendAfter;
        var stalled = new[]
        {
            With("Inviting", stale.AddTicks(-1), slack: StepStatus.Running),
            With("Failed", stale.AddMinutes(-30), slack: StepStatus.Failed, crm: StepStatus.Compensating),
            With("Failed", stale.AddSeconds(-1), slack: StepStatus.Failed, crm: StepStatus.Compensated, store: StepStatus.Compensating),
            // The same instant written with another offset is still before the cut-off.
            With("Inviting", new DateTimeOffset(2026, 11, 25, 13, 50, 0, TimeSpan.FromHours(2)), slack: StepStatus.Running),
            // Double opt-in: the confirmation mail never reported sent.
            With("AwaitingConfirmation", stale.AddMinutes(-10), crm: StepStatus.Pending, store: StepStatus.Pending),
        };
        var mailed = With("AwaitingConfirmation", stale.AddMinutes(-10), crm: StepStatus.Pending, store: StepStatus.Pending);
        mailed.ConfirmationMailSentAt = stale.AddMinutes(-11); // reported sent: waiting on the visitor, not on a command
        var notStalled = new[]
        {
            With("Inviting", stale.AddMilliseconds(1), slack: StepStatus.Running), // changed within the interval
            With("Processing", stale.AddHours(-1), crm: StepStatus.Pending), // waiting on the steps, not on a command
            With("AwaitingApproval", stale.AddHours(-1), slack: StepStatus.AwaitingApproval),
            With("Completed", stale.AddHours(-1), slack: StepStatus.Done),
            With("Failed", stale.AddHours(-1), slack: StepStatus.Failed, crm: StepStatus.Compensated, store: StepStatus.Compensated),
            With("Failed", stale.AddHours(-1), crm: StepStatus.CompensationFailed, store: StepStatus.Failed),
            mailed,
        };
        foreach (var saga in stalled.Concat(notStalled))
            await _store.Insert(saga);

        var ids = stalled.Concat(notStalled).Select(s => s.CorrelationId).ToHashSet();
        var found = await _store.Query(SignupDeadlines.Stalled(now, resendAfter, lastDisruption: now));
        Assert.Equal(stalled.Select(s => s.CorrelationId).Order(), found.Select(s => s.CorrelationId).Where(ids.Contains).Order());

        // Only those last changed at or before the last disruption: the others' commands were sent on a sound connection.
        var disruption = stale.AddMinutes(-30);
        var beforeDisruption = await _store.Query(SignupDeadlines.Stalled(now, resendAfter, disruption));
        Assert.Equal([stalled[1].CorrelationId], beforeDisruption.Select(s => s.CorrelationId).Where(ids.Contains));
    }

    [SkippableFact]
    public async Task Should_load_what_it_inserted()
    {
        var saga = NewSaga();
        await _store.Insert(saga);

        var loaded = await _store.Load(saga.CorrelationId);
        Assert.NotNull(loaded);
        Assert.Equal(saga.CurrentState, loaded.CurrentState);
        Assert.Equal(saga.Email, loaded.Email);
        Assert.Equal("12", loaded.CrmContactId);
        Assert.True(loaded.CrmCreated);
        Assert.Equal(saga.CreatedAt, loaded.CreatedAt);
        Assert.Null(await _store.Load(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task Should_refuse_a_second_insert_of_the_same_id()
    {
        var saga = NewSaga();
        await _store.Insert(saga);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => _store.Insert(saga));
        Assert.True(_store.IsDuplicateKey(ex), $"{ex.GetType().Name} should be recognised as a duplicate key");
        Assert.False(_store.IsDuplicateKey(new InvalidOperationException()));
    }

    [SkippableFact]
    public async Task Should_update_when_the_version_matches()
    {
        var saga = NewSaga();
        await _store.Insert(saga);
        var loaded = (await _store.Load(saga.CorrelationId))!;
        loaded.CurrentState = "Completed";
        loaded.Version++;
        await _store.Update(loaded);

        var reloaded = (await _store.Load(saga.CorrelationId))!;
        Assert.Equal("Completed", reloaded.CurrentState);
        Assert.Equal(1, reloaded.Version);
    }

    [SkippableFact]
    public async Task Should_catch_a_concurrent_update_with_the_version_check()
    {
        var saga = NewSaga();
        await _store.Insert(saga);
        var first = (await _store.Load(saga.CorrelationId))!;
        var second = (await _store.Load(saga.CorrelationId))!;

        first.StoreStatus = StepStatus.Compensated;
        first.Version++;
        await _store.Update(first);

        second.CrmStatus = StepStatus.Done;
        second.Version++;
        var ex = await Assert.ThrowsAsync<ConcurrencyException>(() => _store.Update(second));
        Assert.Equal(saga.CorrelationId, ex.CorrelationId);

        var winner = (await _store.Load(saga.CorrelationId))!;
        Assert.Equal(StepStatus.Compensated, winner.StoreStatus);
        Assert.Equal(StepStatus.Pending, winner.CrmStatus);
    }

    [SkippableFact]
    public async Task Should_delete_and_query()
    {
        var a = NewSaga();
        var b = NewSaga();
        b.CurrentState = "Failed";
        await _store.Insert(a);
        await _store.Insert(b);

        var failed = await _store.Query(s => s.CurrentState == "Failed");
        Assert.Equal([b.CorrelationId], failed.Select(s => s.CorrelationId));

        await _store.Delete(a);
        Assert.Null(await _store.Load(a.CorrelationId));
        Assert.NotNull(await _store.Load(b.CorrelationId));
    }

    /// <summary>
    /// Two gateway instances share one database and each receives a different step outcome for the same signups at
    /// the same moment: a lost update would leave a step pending and no invite would go out.
    /// </summary>
    [SkippableFact]
    public async Task Two_instances_updating_the_same_signups_should_lose_no_update()
    {
        _ = _store;
        await using var left = await SignupSagaHarness.Start(RepositoryProvider());
        await using var right = await SignupSagaHarness.Start(RepositoryProvider());
        var ids = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();

        foreach (var id in ids)
            await left.Publish(new SignupRequested(id, "N", $"{id}@example.com", $"{id}@example.com", DateTimeOffset.UtcNow));
        foreach (var id in ids)
            await left.WaitForState(id, "Processing");

        await Task.WhenAll(ids.SelectMany(id => new[]
        {
            left.Publish(new SignupStored(id)),
            right.Publish(new ContactSynced(id, "1", true, false)),
        }));

        foreach (var id in ids)
        {
            var saga = await left.WaitForState(id, "Inviting");
            Assert.Equal(StepStatus.Done, saga.StoreStatus);
            Assert.Equal(StepStatus.Done, saga.CrmStatus);
        }
        var invites = left.SentCount<InviteToSlack>(m => ids.Contains(m.SignupId)) + right.SentCount<InviteToSlack>(m => ids.Contains(m.SignupId));
        Assert.Equal(ids.Count, invites);
    }

    [SkippableFact]
    public async Task Should_page_the_matches_newest_first_and_count_them_all()
    {
        var domain = $"{Guid.NewGuid():N}.example.com";
        var start = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
        var sagas = Enumerable.Range(0, 5).Select(i =>
        {
            var saga = NewSaga();
            saga.NormalizedEmail = $"person{i}@{domain}";
            saga.CurrentState = i % 2 == 0 ? "Completed" : "Failed";
            saga.UpdatedAt = start.AddMinutes(i);
            return saga;
        }).ToList();
        foreach (var saga in sagas)
            await _store.Insert(saga);
        var other = NewSaga();
        other.NormalizedEmail = "someone@elsewhere.example.com";
        other.CurrentState = "Completed";
        await _store.Insert(other);

        var first = await _store.Page(s => s.NormalizedEmail != null && s.NormalizedEmail.Contains(domain), s => s.UpdatedAt, 0, 2);
        Assert.Equal(5, first.Total);
        Assert.Equal([sagas[4].CorrelationId, sagas[3].CorrelationId], first.Items.Select(s => s.CorrelationId));

        var last = await _store.Page(s => s.NormalizedEmail != null && s.NormalizedEmail.Contains(domain), s => s.UpdatedAt, 4, 2);
        Assert.Equal([sagas[0].CorrelationId], last.Items.Select(s => s.CorrelationId));

        var completed = await _store.Page(s => s.CurrentState == "Completed" && s.NormalizedEmail != null && s.NormalizedEmail.Contains(domain),
            s => s.UpdatedAt, 0, 10);
        Assert.Equal([sagas[4].CorrelationId, sagas[2].CorrelationId, sagas[0].CorrelationId], completed.Items.Select(s => s.CorrelationId));

        var countOnly = await _store.Page(s => s.CurrentState == "Failed" && s.NormalizedEmail != null && s.NormalizedEmail.Contains(domain),
            s => s.UpdatedAt, 0, 0);
        Assert.Equal(2, countOnly.Total);
        Assert.Empty(countOnly.Items);
    }
}

public sealed class Sqlite_saga_store : SagaStoreContract
{
    readonly SqliteStorage<ISagaStore<SignupState>> _storage;

    public Sqlite_saga_store() : this(new("gateway.db", db => new SqliteSagaStore<SignupState>(db))) { }
    Sqlite_saga_store(SqliteStorage<ISagaStore<SignupState>> storage) : base(storage) => _storage = storage;

    protected override ISagaRepositoryRegistrationProvider RepositoryProvider() => SagaStoreRepositoryRegistrationProvider.Sqlite(_storage.Open());
}

public sealed class Mongo_saga_store : SagaStoreContract
{
    readonly MongoStorage<ISagaStore<SignupState>> _storage;

    public Mongo_saga_store() : this(new(db => new MongoSagaStore<SignupState>(db))) { }
    Mongo_saga_store(MongoStorage<ISagaStore<SignupState>> storage) : base(storage) => _storage = storage;

    protected override ISagaRepositoryRegistrationProvider RepositoryProvider() => SagaStoreRepositoryRegistrationProvider.Mongo(_storage.Database!);
}
