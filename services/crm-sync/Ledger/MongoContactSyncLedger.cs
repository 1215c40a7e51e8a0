using Joinery.ServiceDefaults;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.CrmSync.Ledger;

/// <summary>
/// The ledger on MongoDB, shared by every crm-sync replica: a redelivery that lands on another replica still finds
/// what the CRM said the first time. _id is the signup id, so "record unless recorded" is one upsert that only sets
/// fields on insert, and the entry that stands comes back from the same call.
/// </summary>
public sealed class MongoContactSyncLedger : IContactSyncLedger
{
    readonly IMongoCollection<ContactSyncEntry> _collection;

    public MongoContactSyncLedger(IMongoDatabase database)
    {
        RegisterClassMap();
        _collection = database.GetCollection<ContactSyncEntry>("contact_syncs");
    }

    /// <summary>The entry is an immutable record, so the map binds its constructor; no attributes on the record itself.</summary>
    public static void RegisterClassMap()
    {
        MongoConnection.RegisterConventions();
        BsonClassMap.TryRegisterClassMap<ContactSyncEntry>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.SignupId);
            map.MapMember(x => x.ContactId).SetIgnoreIfNull(false);
            map.MapMember(x => x.FailureReason).SetIgnoreIfNull(false);
            map.SetIgnoreExtraElements(true);
            map.MapConstructor(typeof(ContactSyncEntry).GetConstructors().Single(c => c.GetParameters().Length == 5),
                nameof(ContactSyncEntry.SignupId), nameof(ContactSyncEntry.ContactId), nameof(ContactSyncEntry.Created),
                nameof(ContactSyncEntry.FailureReason), nameof(ContactSyncEntry.RecordedAt));
        });
    }

    public static FilterDefinition<ContactSyncEntry> ById(Guid signupId) => Builders<ContactSyncEntry>.Filter.Eq(x => x.SignupId, signupId);

    /// <summary>
    /// Every field under $setOnInsert: an entry already there is left exactly as it is (first writer wins). The _id
    /// comes from the equality filter of the upsert.
    /// </summary>
    public static UpdateDefinition<ContactSyncEntry> InsertIfAbsent(ContactSyncEntry entry) =>
        Builders<ContactSyncEntry>.Update
            .SetOnInsert(x => x.ContactId, entry.ContactId)
            .SetOnInsert(x => x.Created, entry.Created)
            .SetOnInsert(x => x.FailureReason, entry.FailureReason)
            .SetOnInsert(x => x.RecordedAt, entry.RecordedAt);

    /// <summary>Inserts when absent and hands back the entry that stands, whoever wrote it.</summary>
    public static FindOneAndUpdateOptions<ContactSyncEntry> RecordOptions { get; } = new() { IsUpsert = true, ReturnDocument = ReturnDocument.After };

    // The _id is the only key: nothing to create, so start-up only proves the server answers (the readiness check).
    public Task Initialize(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<ContactSyncEntry?> Find(Guid signupId, CancellationToken cancellationToken = default) =>
        await _collection.Find(ById(signupId)).FirstOrDefaultAsync(cancellationToken);

    public async Task<ContactSyncEntry> Record(ContactSyncEntry entry, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _collection.FindOneAndUpdateAsync(ById(entry.SignupId), InsertIfAbsent(entry), RecordOptions, cancellationToken);
        }
        catch (Exception ex) when (MongoConnection.IsDuplicateKey(ex))
        {
            // Two upserts of one new _id: the server retries the loser itself, but older servers hand it back.
            return await Find(entry.SignupId, cancellationToken)
                   ?? throw new InvalidOperationException($"The contact sync of signup {entry.SignupId} was not recorded.");
        }
    }
}
