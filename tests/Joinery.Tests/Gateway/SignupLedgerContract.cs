using Joinery.Gateway.Persistence;
using Joinery.Tests.Support;

namespace Joinery.Tests.Gateway;

/// <summary>What every adapter of the gateway's ledger must do.</summary>
public abstract class SignupLedgerContract(AdapterStorage<ISignupLedger> storage) : AdapterContract<ISignupLedger>(storage)
{
    ISignupLedger Ledger => Adapter;
    protected override Task Initialize(ISignupLedger ledger) => ledger.Initialize();

    static string Email() => $"{Guid.NewGuid():N}@example.com";
    static Task<bool> Never(Guid _) => Task.FromResult(false);
    static Task<bool> Always(Guid _) => Task.FromResult(true);

    [SkippableFact]
    public async Task Should_accept_a_new_email()
    {
        var id = Guid.NewGuid();
        Assert.Equal((id, true), await Ledger.Accept(Message(Email(), id), Never));
        Assert.True(await Ledger.Contains(id));
        Assert.False(await Ledger.Contains(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task Should_return_the_live_signup_for_an_email_already_accepted()
    {
        var email = Email();
        var first = Guid.NewGuid();
        await Ledger.Accept(Message(email, first), Never);
        var second = Guid.NewGuid();
        Assert.Equal((first, false), await Ledger.Accept(Message(email, second), Never));
        Assert.False(await Ledger.Contains(second));
    }

    [SkippableFact]
    public async Task Should_accept_again_once_the_earlier_signup_failed()
    {
        var email = Email();
        var first = Guid.NewGuid();
        await Ledger.Accept(Message(email, first), Never);
        var second = Guid.NewGuid();
        Assert.Equal((second, true), await Ledger.Accept(Message(email, second), id => Task.FromResult(id == first)));
        Assert.True(await Ledger.Contains(second));
    }

    [SkippableFact]
    public async Task Should_forget_a_signup_that_could_not_be_published()
    {
        var email = Email();
        var first = Guid.NewGuid();
        await Ledger.Accept(Message(email, first), Never);
        await Ledger.Forget(first);
        Assert.False(await Ledger.Contains(first));
        var second = Guid.NewGuid();
        Assert.Equal((second, true), await Ledger.Accept(Message(email, second), Always));
    }

    static Joinery.Contracts.SignupRequested Message(string email, Guid? id = null) =>
        new(id ?? Guid.NewGuid(), "Ada", email.ToUpperInvariant(), email, DateTimeOffset.UtcNow);

    [SkippableFact]
    public async Task Should_keep_an_accepted_signup_in_the_outbox_until_it_is_published()
    {
        var message = Message(Email());
        Assert.Equal((message.SignupId, true), await Ledger.Accept(message, Never));

        var waiting = await Ledger.Unpublished(DateTimeOffset.UtcNow.AddSeconds(1), 1000);
        Assert.Contains(message, waiting);
        Assert.DoesNotContain(message, await Ledger.Unpublished(DateTimeOffset.UtcNow.AddMinutes(-1), 1000));

        await Ledger.MarkPublished(message.SignupId);
        Assert.DoesNotContain(waiting.Single(m => m.SignupId == message.SignupId), await Ledger.Unpublished(DateTimeOffset.UtcNow.AddSeconds(1), 1000));
        Assert.True(await Ledger.Contains(message.SignupId));
    }

    [SkippableFact]
    public async Task Marks_made_at_the_same_time_should_all_take_their_signups_out_of_the_outbox()
    {
        var messages = Enumerable.Range(0, 100).Select(_ => Message(Email())).ToList();
        foreach (var message in messages)
            await Ledger.Accept(message, Never);
        var unmarked = messages[^1];

        await Task.WhenAll(messages.SkipLast(1).Select(m => Task.Run(() => Ledger.MarkPublished(m.SignupId))));

        var waiting = (await Ledger.Unpublished(DateTimeOffset.UtcNow.AddSeconds(1), 1000)).Select(m => m.SignupId).ToHashSet();
        Assert.DoesNotContain(waiting, id => messages.SkipLast(1).Any(m => m.SignupId == id));
        Assert.Contains(unmarked.SignupId, waiting);
    }

    [SkippableFact]
    public async Task A_refused_duplicate_should_not_enter_the_outbox()
    {
        var email = Email();
        var first = Message(email);
        await Ledger.Accept(first, Never);
        await Ledger.MarkPublished(first.SignupId);
        var second = Message(email);
        Assert.Equal((first.SignupId, false), await Ledger.Accept(second, Never));
        Assert.DoesNotContain(await Ledger.Unpublished(DateTimeOffset.UtcNow.AddSeconds(1), 1000), m => m.SignupId == second.SignupId);
    }

    [SkippableFact]
    public async Task Concurrent_requests_for_one_email_should_accept_exactly_one()
    {
        var email = Email();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Ledger.Accept(Message(email, Guid.NewGuid()), Never)));
        Assert.Single(results, r => r.IsNew);
        Assert.Single(results.Select(r => r.SignupId).Distinct());
    }
}

public sealed class Sqlite_signup_ledger()
    : SignupLedgerContract(new SqliteStorage<ISignupLedger>("gateway.db", db => new SqliteSignupLedger(db)));

public sealed class Mongo_signup_ledger()
    : SignupLedgerContract(new MongoStorage<ISignupLedger>(db => new MongoSignupLedger(db)));
