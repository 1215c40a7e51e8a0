using Joinery.CrmSync.Ledger;
using Joinery.Tests.Support;

namespace Joinery.Tests.CrmSync;

/// <summary>What every adapter of crm-sync's ledger must do; each adapter's test class inherits these facts.</summary>
public abstract class ContactSyncLedgerContract(AdapterStorage<IContactSyncLedger> storage) : AdapterContract<IContactSyncLedger>(storage)
{
    IContactSyncLedger Ledger => Adapter;
    protected override Task Initialize(IContactSyncLedger ledger) => ledger.Initialize();

    static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-25T10:00:00.1234567+01:00");

    static ContactSyncEntry Created(Guid? signupId = null, string contactId = "123") => new(signupId ?? Guid.NewGuid(), contactId, true, null, At);

    [SkippableFact]
    public async Task Should_find_nothing_for_a_signup_never_recorded()
    {
        Assert.Null(await Ledger.Find(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task Should_record_an_entry_and_find_it_unchanged()
    {
        var entry = Created();
        Assert.Equal(entry, await Ledger.Record(entry));
        var found = await Ledger.Find(entry.SignupId);
        Assert.Equal(entry, found);
        Assert.Equal(At.Offset, found!.RecordedAt.Offset);
    }

    [SkippableFact]
    public async Task Should_record_a_refusal_without_a_contact()
    {
        var refusal = new ContactSyncEntry(Guid.NewGuid(), null, false, "activecampaign:422:email_invalid", At);
        await Ledger.Record(refusal);
        Assert.Equal(refusal, await Ledger.Find(refusal.SignupId));
    }

    [SkippableFact]
    public async Task A_second_record_for_the_same_signup_should_return_and_keep_the_first()
    {
        var first = Created();
        await Ledger.Record(first);
        // What a redelivery racing on another instance would record: ActiveCampaign answers "updated" the second time.
        var second = first with { Created = false, RecordedAt = At.AddSeconds(5) };

        Assert.Equal(first, await Ledger.Record(second));
        Assert.Equal(first, await Ledger.Find(first.SignupId));
    }

    [SkippableFact]
    public async Task Entries_of_different_signups_should_not_affect_each_other()
    {
        var one = Created(contactId: "1");
        var other = Created(contactId: "2");
        await Ledger.Record(one);
        await Ledger.Record(other);
        Assert.Equal("1", (await Ledger.Find(one.SignupId))!.ContactId);
        Assert.Equal("2", (await Ledger.Find(other.SignupId))!.ContactId);
    }

    [SkippableFact]
    public async Task Concurrent_records_for_one_signup_should_all_return_the_one_that_stands()
    {
        var signupId = Guid.NewGuid();
        var attempts = Enumerable.Range(0, 10).Select(i => Created(signupId, contactId: i.ToString())).ToList();

        var results = await Task.WhenAll(attempts.Select(a => Ledger.Record(a)));

        var standing = await Ledger.Find(signupId);
        Assert.NotNull(standing);
        Assert.Contains(standing, attempts);
        Assert.All(results, r => Assert.Equal(standing, r));
    }

    [SkippableFact]
    public async Task An_entry_should_outlive_the_adapter_that_recorded_it()
    {
        var entry = Created();
        await Ledger.Record(entry);

        var restarted = await Reopen();
        Assert.Equal(entry, await restarted.Find(entry.SignupId));
        Assert.Equal(entry, await restarted.Record(entry with { Created = false }));
    }

    [SkippableFact]
    public async Task Initializing_again_should_keep_what_was_recorded()
    {
        var entry = Created();
        await Ledger.Record(entry);
        await Ledger.Initialize();
        Assert.Equal(entry, await Ledger.Find(entry.SignupId));
    }
}

public sealed class Sqlite_contact_sync_ledger()
    : ContactSyncLedgerContract(new SqliteStorage<IContactSyncLedger>("crm-sync.db", db => new SqliteContactSyncLedger(db)));

public sealed class Mongo_contact_sync_ledger()
    : ContactSyncLedgerContract(new MongoStorage<IContactSyncLedger>(db => new MongoContactSyncLedger(db)));
