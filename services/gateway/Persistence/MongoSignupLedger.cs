using System.Text.Json;
using Joinery.Contracts;
using Joinery.ServiceDefaults;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.Gateway.Persistence;

/// <summary>One live signup per email, keyed by the normalized email, so two gateways cannot both accept it.</summary>
public sealed class AcceptedSignup
{
    public string NormalizedEmail { get; set; } = "";
    public Guid SignupId { get; set; }
    public DateTimeOffset AcceptedAt { get; set; }
    /// <summary>The SignupRequested message as JSON, kept until the broker has it (the outbox).</summary>
    public string? Payload { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
}

/// <summary>
/// The ledger on MongoDB. The email is the _id, so "accept unless live" is one atomic insert, and taking over a
/// failed signup's email is a compare-and-swap on the id it held.
/// </summary>
public sealed class MongoSignupLedger : ISignupLedger
{
    readonly IMongoCollection<AcceptedSignup> _collection;

    public MongoSignupLedger(IMongoDatabase database)
    {
        RegisterClassMap();
        _collection = database.GetCollection<AcceptedSignup>("accepted_signups");
    }

    public static void RegisterClassMap()
    {
        MongoConnection.RegisterConventions();
        BsonClassMap.TryRegisterClassMap<AcceptedSignup>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.NormalizedEmail);
            map.SetIgnoreExtraElements(true);
        });
    }

    public static CreateIndexModel<AcceptedSignup> SignupIdIndex { get; } = new(
        Builders<AcceptedSignup>.IndexKeys.Ascending(x => x.SignupId),
        new CreateIndexOptions { Name = "signup_id", Unique = true });

    public static FilterDefinition<AcceptedSignup> HeldBy(string normalizedEmail, Guid signupId) =>
        Builders<AcceptedSignup>.Filter.Eq(x => x.NormalizedEmail, normalizedEmail) & Builders<AcceptedSignup>.Filter.Eq(x => x.SignupId, signupId);

    /// <summary>The outbox's look-up: only entries still waiting for the broker are in this (partial) index.</summary>
    public static CreateIndexModel<AcceptedSignup> UnpublishedIndex { get; } = new(
        Builders<AcceptedSignup>.IndexKeys.Ascending(x => x.AcceptedAt),
        new CreateIndexOptions<AcceptedSignup>
        {
            Name = "unpublished",
            PartialFilterExpression = Builders<AcceptedSignup>.Filter.Type(x => x.Payload, MongoDB.Bson.BsonType.String)
                                      & Builders<AcceptedSignup>.Filter.Type(x => x.PublishedAt, MongoDB.Bson.BsonType.Null),
        });

    public static FilterDefinition<AcceptedSignup> BySignupId(Guid signupId) => Builders<AcceptedSignup>.Filter.Eq(x => x.SignupId, signupId);

    public static FilterDefinition<AcceptedSignup> WaitingSince(DateTimeOffset acceptedBefore) =>
        Builders<AcceptedSignup>.Filter.Type(x => x.Payload, MongoDB.Bson.BsonType.String)
        & Builders<AcceptedSignup>.Filter.Type(x => x.PublishedAt, MongoDB.Bson.BsonType.Null)
        & Builders<AcceptedSignup>.Filter.Lt(x => x.AcceptedAt, acceptedBefore);

    public static UpdateDefinition<AcceptedSignup> Published(DateTimeOffset at) => Builders<AcceptedSignup>.Update.Set(x => x.PublishedAt, at);

    // CreateIndex is a no-op when the same index exists, so every start-up may run it.
    public async Task Initialize(CancellationToken cancellationToken = default)
    {
        await _collection.Indexes.CreateOneAsync(SignupIdIndex, cancellationToken: cancellationToken);
        await _collection.Indexes.CreateOneAsync(UnpublishedIndex, cancellationToken: cancellationToken);
    }

    public Task<(Guid SignupId, bool IsNew)> Accept(SignupRequested message, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default) =>
        Accept(new AcceptedSignup
        {
            NormalizedEmail = message.NormalizedEmail, SignupId = message.SignupId, AcceptedAt = DateTimeOffset.UtcNow,
            Payload = JsonSerializer.Serialize(message),
        }, hasFailed, cancellationToken);

    public Task MarkPublished(Guid signupId, CancellationToken cancellationToken = default) =>
        _collection.UpdateOneAsync(BySignupId(signupId), Published(DateTimeOffset.UtcNow), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<SignupRequested>> Unpublished(DateTimeOffset acceptedBefore, int max, CancellationToken cancellationToken = default)
    {
        var waiting = await _collection.Find(WaitingSince(acceptedBefore)).SortBy(x => x.AcceptedAt).Limit(max).ToListAsync(cancellationToken);
        return waiting.Select(x => JsonSerializer.Deserialize<SignupRequested>(x.Payload!)!).ToList();
    }

    async Task<(Guid SignupId, bool IsNew)> Accept(AcceptedSignup entry, Func<Guid, Task<bool>> hasFailed, CancellationToken cancellationToken)
    {
        var (signupId, normalizedEmail) = (entry.SignupId, entry.NormalizedEmail);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                await _collection.InsertOneAsync(entry, cancellationToken: cancellationToken);
                return (signupId, true);
            }
            catch (Exception ex) when (MongoConnection.IsDuplicateKey(ex))
            {
                var holder = await _collection.Find(Builders<AcceptedSignup>.Filter.Eq(x => x.NormalizedEmail, normalizedEmail))
                    .FirstOrDefaultAsync(cancellationToken);
                if (holder is null)
                    continue; // forgotten in between: insert again
                if (!await hasFailed(holder.SignupId))
                    return (holder.SignupId, false);
                var swapped = await _collection.ReplaceOneAsync(HeldBy(normalizedEmail, holder.SignupId), entry, cancellationToken: cancellationToken);
                if (swapped.ModifiedCount == 1)
                    return (signupId, true);
            }
        }
        throw new InvalidOperationException($"Could not settle which signup holds {normalizedEmail} after repeated races");
    }

    public Task Forget(Guid signupId, CancellationToken cancellationToken = default) =>
        _collection.DeleteOneAsync(BySignupId(signupId), cancellationToken);

    public async Task<bool> Contains(Guid signupId, CancellationToken cancellationToken = default) =>
        await _collection.Find(BySignupId(signupId)).AnyAsync(cancellationToken);
}
