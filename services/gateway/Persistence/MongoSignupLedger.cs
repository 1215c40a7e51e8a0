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

    public static FilterDefinition<AcceptedSignup> BySignupId(Guid signupId) => Builders<AcceptedSignup>.Filter.Eq(x => x.SignupId, signupId);

    // CreateIndex is a no-op when the same index exists, so every start-up may run it.
    public Task Initialize(CancellationToken cancellationToken = default) =>
        _collection.Indexes.CreateOneAsync(SignupIdIndex, cancellationToken: cancellationToken);

    public async Task<(Guid SignupId, bool IsNew)> Accept(Guid signupId, string normalizedEmail, Func<Guid, Task<bool>> hasFailed,
        CancellationToken cancellationToken = default)
    {
        var entry = new AcceptedSignup { NormalizedEmail = normalizedEmail, SignupId = signupId, AcceptedAt = DateTimeOffset.UtcNow };
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
