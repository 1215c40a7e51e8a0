using Joinery.Store.Persistence;
using Joinery.Tests.Support;

namespace Joinery.Tests.Store;

/// <summary>What every adapter of the store's port must do; each adapter's test class inherits these facts.</summary>
public abstract class SignupRepositoryContract(AdapterStorage<ISignupRepository> storage) : AdapterContract<ISignupRepository>(storage)
{
    protected ISignupRepository Repository => Adapter;
    protected override Task Initialize(ISignupRepository repository) => repository.Initialize();

    static SignupRecord NewRecord(string? email = null)
    {
        var address = email ?? $"{Guid.NewGuid():N}@example.com";
        var now = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
        return new SignupRecord(Guid.NewGuid(), "Katherine Johnson", address, address.Trim().ToLowerInvariant(), SignupRecord.Stored, null, now, now);
    }

    [SkippableFact]
    public async Task Should_store_a_new_signup()
    {
        var record = NewRecord();
        Assert.Equal(AddSignupOutcome.Stored, await Repository.Add(record));
        var found = await Repository.Find(record.SignupId);
        Assert.NotNull(found);
        Assert.Equal(record.Email, found.Email);
        Assert.Equal(record.Name, found.Name);
        Assert.Equal(SignupRecord.Stored, found.Status);
        Assert.Equal(record.CreatedAt, found.CreatedAt);
    }

    [SkippableFact]
    public async Task Should_treat_a_redelivery_as_already_stored()
    {
        var record = NewRecord();
        await Repository.Add(record);
        Assert.Equal(AddSignupOutcome.AlreadyStored, await Repository.Add(record));
    }

    [SkippableFact]
    public async Task Should_refuse_a_second_live_signup_for_the_same_email()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        await Repository.Add(NewRecord(email));
        var second = NewRecord(email.ToUpperInvariant()) with { NormalizedEmail = email };
        Assert.Equal(AddSignupOutcome.EmailTaken, await Repository.Add(second));
        Assert.Null(await Repository.Find(second.SignupId));
    }

    [SkippableFact]
    public async Task Should_mark_a_record_failed_and_keep_it()
    {
        var record = NewRecord();
        await Repository.Add(record);
        Assert.True(await Repository.MarkFailed(record.SignupId, "slack:invalid_email", DateTimeOffset.UtcNow));

        var found = await Repository.Find(record.SignupId);
        Assert.NotNull(found);
        Assert.Equal(SignupRecord.Failed, found.Status);
        Assert.Equal("slack:invalid_email", found.FailureReason);
        Assert.False(await Repository.MarkFailed(Guid.NewGuid(), "x", DateTimeOffset.UtcNow));
    }

    [SkippableFact]
    public async Task Should_let_a_new_signup_take_the_email_of_a_failed_one()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        var failed = NewRecord(email);
        await Repository.Add(failed);
        await Repository.MarkFailed(failed.SignupId, "slack:invalid_email", DateTimeOffset.UtcNow);

        var retry = NewRecord(email);
        Assert.Equal(AddSignupOutcome.Stored, await Repository.Add(retry));
        Assert.Equal(SignupRecord.Failed, (await Repository.Find(failed.SignupId))!.Status);
        Assert.Equal(SignupRecord.Stored, (await Repository.Find(retry.SignupId))!.Status);
    }

    [SkippableFact]
    public async Task Should_erase_a_record_for_good_and_let_the_email_sign_up_again()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        var record = NewRecord(email);
        var other = NewRecord();
        await Repository.Add(record);
        await Repository.Add(other);

        Assert.True(await Repository.Erase(record.SignupId));
        Assert.Null(await Repository.Find(record.SignupId));
        Assert.NotNull(await Repository.Find(other.SignupId));
        Assert.False(await Repository.Erase(record.SignupId));

        // Nothing of the erased record still holds the email.
        Assert.Equal(AddSignupOutcome.Stored, await Repository.Add(NewRecord(email)));
    }
}
