using Joinery.Contracts;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.ServiceDefaults;
using Joinery.Tests.Support;
using MassTransit;
using Microsoft.Data.Sqlite;

namespace Joinery.Tests.Gateway;

public sealed class Sqlite_saga_repository : IDisposable
{
    readonly TempDirectory _directory = new();
    readonly SqliteDatabase _database;
    readonly SqliteSagaStore<SignupState> _store;

    public Sqlite_saga_repository()
    {
        _database = new SqliteDatabase(_directory.File("gateway.db"));
        _store = new SqliteSagaStore<SignupState>(_database);
    }

    public void Dispose() => _directory.Dispose();

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

    [Fact]
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

    [Fact]
    public async Task Should_refuse_a_second_insert_of_the_same_id()
    {
        var saga = NewSaga();
        await _store.Insert(saga);
        var ex = await Assert.ThrowsAsync<SqliteException>(() => _store.Insert(saga));
        Assert.True(SqliteDatabase.IsUniqueViolation(ex));
    }

    [Fact]
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

    [Fact]
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

    [Fact]
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
    [Fact]
    public async Task Two_instances_updating_the_same_signups_should_lose_no_update()
    {
        await using var left = await SignupSagaHarness.Start(_database);
        await using var right = await SignupSagaHarness.Start(_database);
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
}
