using Joinery.SlackInvite.InviteLink;
using Joinery.Tests.Support;

namespace Joinery.Tests.SlackInvite;

/// <summary>What every adapter of the invite link's ledger must do; each adapter's test class inherits these facts.</summary>
public abstract class InviteLinkLedgerContract(AdapterStorage<IInviteLinkLedger> storage) : AdapterContract<IInviteLinkLedger>(storage)
{
    IInviteLinkLedger Ledger => Adapter;
    protected override Task Initialize(IInviteLinkLedger ledger) => ledger.Initialize();

    static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
    static readonly DateOnly Today = new(2026, 11, 25);

    /// <summary>A link of each test's own, so that no count is shared between tests.</summary>
    static string NewLink() => InviteLinkInviter.LinkKey($"https://join.slack.com/t/joinery/shared_invite/{Guid.NewGuid():N}");

    Task<int?> Reserve(Guid signupId, string link, int? maxUses) => Ledger.Reserve(signupId, link, maxUses, Now);

    [SkippableFact]
    public async Task Reservations_should_count_the_uses_taken()
    {
        var link = NewLink();
        Assert.Equal(0, await Ledger.Uses(link));
        Assert.Equal(1, await Reserve(Guid.NewGuid(), link, 10));
        Assert.Equal(2, await Reserve(Guid.NewGuid(), link, 10));
        Assert.Equal(2, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task A_link_without_a_cap_should_never_refuse()
    {
        var link = NewLink();
        for (var i = 1; i <= 5; i++)
            Assert.Equal(i, await Reserve(Guid.NewGuid(), link, maxUses: null));
        Assert.Equal(5, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task A_reservation_past_the_cap_should_be_refused()
    {
        var link = NewLink();
        await Reserve(Guid.NewGuid(), link, 2);
        await Reserve(Guid.NewGuid(), link, 2);

        var refused = Guid.NewGuid();
        Assert.Null(await Reserve(refused, link, 2));
        Assert.Equal(2, await Ledger.Uses(link));
        Assert.False(await Ledger.WasSent(refused));
    }

    [SkippableFact]
    public async Task A_signup_should_keep_its_reservation_when_the_cap_is_reached()
    {
        var link = NewLink();
        var signup = Guid.NewGuid();
        Assert.Equal(1, await Reserve(signup, link, 1));

        // The retry of a mail that failed for a while: the same use, not a second one, and not refused.
        Assert.Equal(1, await Reserve(signup, link, 1));
        Assert.Equal(1, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task Concurrent_reservations_should_never_pass_the_cap()
    {
        var link = NewLink();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Reserve(Guid.NewGuid(), link, 5))));

        Assert.Equal(5, results.Count(r => r is not null));
        Assert.All(results.OfType<int>(), uses => Assert.InRange(uses, 1, 5));
        Assert.Equal(5, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task Concurrent_reservations_by_one_signup_should_take_one_use()
    {
        var link = NewLink();
        var signup = Guid.NewGuid();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => Reserve(signup, link, 3))));

        Assert.All(results, r => Assert.Equal(1, r));
        Assert.Equal(1, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task A_released_use_should_go_to_the_next_signup()
    {
        var link = NewLink();
        var refusedMailbox = Guid.NewGuid();
        await Reserve(refusedMailbox, link, 1);

        await Ledger.Release(refusedMailbox);

        Assert.Equal(0, await Ledger.Uses(link));
        Assert.Equal(1, await Reserve(Guid.NewGuid(), link, 1));
        Assert.False(await Ledger.WasSent(refusedMailbox));
    }

    [SkippableFact]
    public async Task Releasing_twice_should_give_back_one_use()
    {
        var link = NewLink();
        var signup = Guid.NewGuid();
        await Reserve(signup, link, 10);
        await Reserve(Guid.NewGuid(), link, 10);

        await Ledger.Release(signup);
        await Ledger.Release(signup);

        Assert.Equal(1, await Ledger.Uses(link));
    }

    [SkippableFact]
    public async Task A_sent_mail_should_be_known_and_its_use_kept()
    {
        var link = NewLink();
        var signup = Guid.NewGuid();
        await Reserve(signup, link, 10);
        Assert.False(await Ledger.WasSent(signup));

        await Ledger.MarkSent(signup, Now.AddSeconds(2));
        await Ledger.Release(signup);

        Assert.True(await Ledger.WasSent(signup));
        Assert.Equal(1, await Ledger.Uses(link));
        Assert.False(await Ledger.WasSent(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task A_new_link_should_start_a_new_count()
    {
        var old = NewLink();
        await Reserve(Guid.NewGuid(), old, 1);

        var replacement = NewLink();
        Assert.Equal(1, await Reserve(Guid.NewGuid(), replacement, 1));
        Assert.Equal(1, await Ledger.Uses(old));
        Assert.Equal(1, await Ledger.Uses(replacement));
    }

    [SkippableFact]
    public async Task A_use_held_of_an_earlier_link_should_not_carry_over_to_a_new_one()
    {
        var old = NewLink();
        var signup = Guid.NewGuid();
        await Reserve(signup, old, 10);

        var replacement = NewLink();
        Assert.Null(await Reserve(signup, replacement, 10));
        Assert.Equal(0, await Ledger.Uses(replacement));
        Assert.Equal(1, await Ledger.Uses(old));
    }

    [SkippableFact]
    public async Task Each_warning_should_be_recorded_once_per_link_kind_and_day()
    {
        var link = NewLink();
        Assert.True(await Ledger.TryRecordWarning(link, "uses", Today));
        Assert.False(await Ledger.TryRecordWarning(link, "uses", Today));

        Assert.True(await Ledger.TryRecordWarning(link, "expiry", Today));
        Assert.True(await Ledger.TryRecordWarning(link, "uses", Today.AddDays(1)));
        Assert.True(await Ledger.TryRecordWarning(NewLink(), "uses", Today));
    }

    [SkippableFact]
    public async Task Concurrent_warnings_should_be_recorded_once()
    {
        var link = NewLink();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => Ledger.TryRecordWarning(link, "exhausted", Today))));
        Assert.Single(results, recorded => recorded);
    }

    [SkippableFact]
    public async Task Uses_and_warnings_should_outlive_the_adapter_that_recorded_them()
    {
        var link = NewLink();
        var sent = Guid.NewGuid();
        await Reserve(sent, link, 2);
        await Ledger.MarkSent(sent, Now);
        await Ledger.TryRecordWarning(link, "uses", Today);

        var restarted = await Reopen();
        Assert.True(await restarted.WasSent(sent));
        Assert.Equal(1, await restarted.Uses(link));
        Assert.False(await restarted.TryRecordWarning(link, "uses", Today));
        Assert.Equal(2, await restarted.Reserve(Guid.NewGuid(), link, 2, Now));
        Assert.Null(await restarted.Reserve(Guid.NewGuid(), link, 2, Now));
    }
}

public sealed class Sqlite_invite_link_ledger()
    : InviteLinkLedgerContract(new SqliteStorage<IInviteLinkLedger>("slack-invite.db", db => new SqliteInviteLinkLedger(db)));

public sealed class Mongo_invite_link_ledger()
    : InviteLinkLedgerContract(new MongoStorage<IInviteLinkLedger>(db => new MongoInviteLinkLedger(db)));
