using Joinery.ServiceDefaults;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.Store.Persistence;

/// <summary>
/// Signups on MongoDB: _id is the signup id (so a redelivery is a duplicate key, which means "already stored"),
/// and a unique index on the normalized email keeps one live signup per person.
/// </summary>
public sealed class MongoSignupRepository : ISignupRepository
{
    readonly IMongoCollection<SignupRecord> _collection;

    public MongoSignupRepository(IMongoDatabase database)
    {
        RegisterClassMap();
        _collection = database.GetCollection<SignupRecord>("signups");
    }

    /// <summary>The record is immutable, so the map binds the constructor; no attributes on the record itself.</summary>
    public static void RegisterClassMap()
    {
        MongoConnection.RegisterConventions();
        BsonClassMap.TryRegisterClassMap<SignupRecord>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.SignupId);
            map.MapMember(x => x.FailureReason).SetIgnoreIfNull(false);
            map.SetIgnoreExtraElements(true);
            map.MapConstructor(typeof(SignupRecord).GetConstructors().Single(c => c.GetParameters().Length == 8),
                nameof(SignupRecord.SignupId), nameof(SignupRecord.Name), nameof(SignupRecord.Email), nameof(SignupRecord.NormalizedEmail),
                nameof(SignupRecord.Status), nameof(SignupRecord.FailureReason), nameof(SignupRecord.CreatedAt), nameof(SignupRecord.UpdatedAt));
        });
    }

    public static CreateIndexModel<SignupRecord> EmailIndex { get; } = new(
        Builders<SignupRecord>.IndexKeys.Ascending(x => x.NormalizedEmail),
        new CreateIndexOptions { Name = "normalized_email", Unique = true });

    public static FilterDefinition<SignupRecord> ById(Guid signupId) => Builders<SignupRecord>.Filter.Eq(x => x.SignupId, signupId);

    public static FilterDefinition<SignupRecord> ByEmail(string normalizedEmail) =>
        Builders<SignupRecord>.Filter.Eq(x => x.NormalizedEmail, normalizedEmail);

    /// <summary>A failed record gives up its email (moved aside, the record kept) so the person can sign up again.</summary>
    public static UpdateDefinition<SignupRecord> RetireEmail(SignupRecord failed) =>
        Builders<SignupRecord>.Update.Set(x => x.NormalizedEmail, $"{failed.NormalizedEmail}#failed:{failed.SignupId}");

    public static FilterDefinition<SignupRecord> FailedHolder(SignupRecord failed) =>
        ById(failed.SignupId) & Builders<SignupRecord>.Filter.Eq(x => x.Status, SignupRecord.Failed)
                              & Builders<SignupRecord>.Filter.Eq(x => x.NormalizedEmail, failed.NormalizedEmail);

    public static UpdateDefinition<SignupRecord> MarkFailedUpdate(string reason, DateTimeOffset at) =>
        Builders<SignupRecord>.Update
            .Set(x => x.Status, SignupRecord.Failed)
            .Set(x => x.FailureReason, reason)
            .Set(x => x.UpdatedAt, at);

    public Task Initialize(CancellationToken cancellationToken = default) =>
        _collection.Indexes.CreateOneAsync(EmailIndex, cancellationToken: cancellationToken);

    public async Task<AddSignupOutcome> Add(SignupRecord record, CancellationToken cancellationToken = default)
    {
        var holder = await _collection.Find(ByEmail(record.NormalizedEmail)).FirstOrDefaultAsync(cancellationToken);
        if (holder is not null && holder.SignupId == record.SignupId)
            return AddSignupOutcome.AlreadyStored;
        if (holder is { Status: SignupRecord.Failed })
            await _collection.UpdateOneAsync(FailedHolder(holder), RetireEmail(holder), cancellationToken: cancellationToken);
        else if (holder is not null)
            return AddSignupOutcome.EmailTaken;

        try
        {
            await _collection.InsertOneAsync(record with { Status = SignupRecord.Stored, FailureReason = null }, cancellationToken: cancellationToken);
            return AddSignupOutcome.Stored;
        }
        catch (Exception ex) when (MongoConnection.IsDuplicateKey(ex))
        {
            // Either this id was stored meanwhile (a redelivery racing itself) or someone else took the email.
            return await _collection.Find(ById(record.SignupId)).AnyAsync(cancellationToken)
                ? AddSignupOutcome.AlreadyStored
                : AddSignupOutcome.EmailTaken;
        }
    }

    public async Task<bool> MarkFailed(Guid signupId, string reason, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var result = await _collection.UpdateOneAsync(ById(signupId), MarkFailedUpdate(reason, at), cancellationToken: cancellationToken);
        return result.MatchedCount > 0;
    }

    public async Task<bool> Erase(Guid signupId, CancellationToken cancellationToken = default) =>
        (await _collection.DeleteOneAsync(ById(signupId), cancellationToken)).DeletedCount > 0;

    public async Task<SignupRecord?> Find(Guid signupId, CancellationToken cancellationToken = default) =>
        await _collection.Find(ById(signupId)).FirstOrDefaultAsync(cancellationToken);
}
