using System.Globalization;
using Joinery.ServiceDefaults;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.SlackInvite.InviteLink;

/// <summary>One signup's use of the link: reserved, then sent (or deleted again when the mail was refused).</summary>
public sealed class InviteLinkUse
{
    public Guid SignupId { get; set; }
    public string LinkKey { get; set; } = "";
    public DateTimeOffset ReservedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
}

/// <summary>
/// One link's uses: how many are taken (the number the cap is checked against) and by which signups, in one document
/// so that "below the cap and not yet held by this signup" is checked and taken in one atomic update. The holders grow
/// by one a use; a document's 16 MB hold hundreds of thousands of them, and a new link starts a new document.
/// </summary>
public sealed class InviteLinkCounter
{
    public string LinkKey { get; set; } = "";
    public int Uses { get; set; }
    public List<Guid> Holders { get; set; } = [];
}

/// <summary>A warning given, keyed by link, kind and day so that each is given once a day.</summary>
public sealed class InviteLinkWarning
{
    public string Id { get; set; } = "";
    public string LinkKey { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Day { get; set; } = "";

    public static string IdOf(string linkKey, string kind, DateOnly day) =>
        $"{linkKey}:{kind}:{day.ToString("O", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The invite link's uses on MongoDB, shared by every slack-invite replica. Counting documents and then inserting
/// would let two replicas both see "one left"; instead the link's counter document is taken only while it is below
/// the cap and does not list the signup yet, one atomic update, so at most the cap's worth of signups ever pass and a
/// redelivery racing itself takes one use, not two. A signup's own document (keyed by its id) says which link it
/// holds and whether the mail went out, for the calls that know only the signup.
/// </summary>
public sealed class MongoInviteLinkLedger : IInviteLinkLedger
{
    readonly IMongoCollection<InviteLinkUse> _uses;
    readonly IMongoCollection<InviteLinkCounter> _counters;
    readonly IMongoCollection<InviteLinkWarning> _warnings;

    public MongoInviteLinkLedger(IMongoDatabase database)
    {
        RegisterClassMaps();
        _uses = database.GetCollection<InviteLinkUse>("invite_link_uses");
        _counters = database.GetCollection<InviteLinkCounter>("invite_link_counters");
        _warnings = database.GetCollection<InviteLinkWarning>("invite_link_warnings");
    }

    public static void RegisterClassMaps()
    {
        MongoConnection.RegisterConventions();
        BsonClassMap.TryRegisterClassMap<InviteLinkUse>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.SignupId);
            // Stored as null until sent, so "not sent yet" is one equality on the field.
            map.MapMember(x => x.SentAt).SetIgnoreIfNull(false);
            map.SetIgnoreExtraElements(true);
        });
        BsonClassMap.TryRegisterClassMap<InviteLinkCounter>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.LinkKey);
            map.SetIgnoreExtraElements(true);
        });
        BsonClassMap.TryRegisterClassMap<InviteLinkWarning>(map =>
        {
            map.AutoMap();
            map.MapIdMember(x => x.Id);
            map.SetIgnoreExtraElements(true);
        });
    }

    public static FilterDefinition<InviteLinkUse> UseOf(Guid signupId) => Builders<InviteLinkUse>.Filter.Eq(x => x.SignupId, signupId);

    public static FilterDefinition<InviteLinkUse> UnsentUseOf(Guid signupId) => UseOf(signupId) & Builders<InviteLinkUse>.Filter.Eq(x => x.SentAt, null);

    public static FilterDefinition<InviteLinkUse> SentUseOf(Guid signupId) => UseOf(signupId) & Builders<InviteLinkUse>.Filter.Ne(x => x.SentAt, null);

    public static FilterDefinition<InviteLinkCounter> CounterOf(string linkKey) => Builders<InviteLinkCounter>.Filter.Eq(x => x.LinkKey, linkKey);

    /// <summary>The link's counter while a use is left (any number without a cap) and the signup holds none of them.</summary>
    public static FilterDefinition<InviteLinkCounter> FreeFor(Guid signupId, string linkKey, int? maxUses)
    {
        var filter = CounterOf(linkKey) & Builders<InviteLinkCounter>.Filter.AnyNe(x => x.Holders, signupId);
        return maxUses is { } max ? filter & Builders<InviteLinkCounter>.Filter.Lt(x => x.Uses, max) : filter;
    }

    public static UpdateDefinition<InviteLinkCounter> Take(Guid signupId) =>
        Builders<InviteLinkCounter>.Update.Inc(x => x.Uses, 1).Push(x => x.Holders, signupId);

    /// <summary>Only matches while the signup is a holder, so a use is never given back twice.</summary>
    public static FilterDefinition<InviteLinkCounter> HeldBy(Guid signupId, string linkKey) =>
        CounterOf(linkKey) & Builders<InviteLinkCounter>.Filter.AnyEq(x => x.Holders, signupId);

    public static UpdateDefinition<InviteLinkCounter> GiveBack(Guid signupId) =>
        Builders<InviteLinkCounter>.Update.Inc(x => x.Uses, -1).Pull(x => x.Holders, signupId);

    /// <summary>A link seen for the first time starts with no uses; an existing counter is left as it is.</summary>
    public static UpdateDefinition<InviteLinkCounter> StartEmpty { get; } =
        Builders<InviteLinkCounter>.Update.SetOnInsert(x => x.Uses, 0).SetOnInsert(x => x.Holders, new List<Guid>());

    public static UpdateDefinition<InviteLinkUse> ReserveIfAbsent(string linkKey, DateTimeOffset now) =>
        Builders<InviteLinkUse>.Update
            .SetOnInsert(x => x.LinkKey, linkKey)
            .SetOnInsert(x => x.ReservedAt, now)
            .SetOnInsert(x => x.SentAt, null);

    public static UpdateDefinition<InviteLinkUse> Sent(DateTimeOffset now) => Builders<InviteLinkUse>.Update.Set(x => x.SentAt, now);

    public static FilterDefinition<InviteLinkWarning> WarningOf(string linkKey, string kind, DateOnly day) =>
        Builders<InviteLinkWarning>.Filter.Eq(x => x.Id, InviteLinkWarning.IdOf(linkKey, kind, day));

    public static UpdateDefinition<InviteLinkWarning> WarnIfAbsent(string linkKey, string kind, DateOnly day) =>
        Builders<InviteLinkWarning>.Update
            .SetOnInsert(x => x.LinkKey, linkKey)
            .SetOnInsert(x => x.Kind, kind)
            .SetOnInsert(x => x.Day, day.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>The taking update must not upsert: a counter that does not match is full (or held), not missing.</summary>
    public static FindOneAndUpdateOptions<InviteLinkCounter> TakeOptions { get; } = new() { IsUpsert = false, ReturnDocument = ReturnDocument.After };

    static readonly UpdateOptions Upsert = new() { IsUpsert = true };

    // Every look-up is by _id, the one index every collection has: nothing to create at start-up.
    public Task Initialize(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<bool> WasSent(Guid signupId, CancellationToken cancellationToken = default) =>
        await _uses.Find(SentUseOf(signupId)).AnyAsync(cancellationToken);

    public async Task<int?> Reserve(Guid signupId, string linkKey, int? maxUses, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (await _uses.Find(UseOf(signupId)).FirstOrDefaultAsync(cancellationToken) is { } held)
        {
            // A use held of an earlier link does not carry over to a new one (the SQLite adapter's answer too).
            if (held.LinkKey != linkKey)
                return null;
            // A redelivery: the signup keeps its use, even at the cap.
            if (await _counters.Find(HeldBy(signupId, linkKey)).FirstOrDefaultAsync(cancellationToken) is { } holding)
                return holding.Uses;
        }

        var counter = await _counters.FindOneAndUpdateAsync(FreeFor(signupId, linkKey, maxUses), Take(signupId), TakeOptions, cancellationToken);
        if (counter is null)
        {
            // Full, held by this signup already, or a link without a counter yet: create it (idempotently) and ask once more.
            await UpsertIgnoringRace(_counters, CounterOf(linkKey), StartEmpty, cancellationToken);
            counter = await _counters.FindOneAndUpdateAsync(FreeFor(signupId, linkKey, maxUses), Take(signupId), TakeOptions, cancellationToken)
                      ?? await _counters.Find(HeldBy(signupId, linkKey)).FirstOrDefaultAsync(cancellationToken);
            if (counter is null)
                return null;
        }

        // Also when the signup already held the use: a crash may have come between taking it and writing this.
        await UpsertIgnoringRace(_uses, UseOf(signupId), ReserveIfAbsent(linkKey, now), cancellationToken);
        return counter.Uses;
    }

    public Task MarkSent(Guid signupId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        _uses.UpdateOneAsync(UnsentUseOf(signupId), Sent(now), cancellationToken: cancellationToken);

    public async Task Release(Guid signupId, CancellationToken cancellationToken = default)
    {
        if (await _uses.FindOneAndDeleteAsync(UnsentUseOf(signupId), cancellationToken: cancellationToken) is { } released)
            await _counters.UpdateOneAsync(HeldBy(signupId, released.LinkKey), GiveBack(signupId), cancellationToken: cancellationToken);
    }

    public async Task<int> Uses(string linkKey, CancellationToken cancellationToken = default) =>
        (await _counters.Find(CounterOf(linkKey)).FirstOrDefaultAsync(cancellationToken))?.Uses ?? 0;

    public Task<bool> TryRecordWarning(string linkKey, string kind, DateOnly day, CancellationToken cancellationToken = default) =>
        UpsertIgnoringRace(_warnings, WarningOf(linkKey, kind, day), WarnIfAbsent(linkKey, kind, day), cancellationToken);

    /// <summary>Inserts the document the filter names unless it exists; true when this call inserted it.</summary>
    static async Task<bool> UpsertIgnoringRace<T>(IMongoCollection<T> collection, FilterDefinition<T> filter, UpdateDefinition<T> update,
        CancellationToken cancellationToken)
    {
        try
        {
            return (await collection.UpdateOneAsync(filter, update, Upsert, cancellationToken)).UpsertedId is not null;
        }
        catch (Exception ex) when (MongoConnection.IsDuplicateKey(ex))
        {
            // Another writer inserted the same _id between the match and the insert.
            return false;
        }
    }
}
