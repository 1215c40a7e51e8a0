using Joinery.CrmSync.Ledger;
using Joinery.SlackInvite.InviteLink;
using MongoDB.Bson;
using MongoDB.Driver;
using static Joinery.Tests.Mongo.Rendering_the_mongodb_queries;

namespace Joinery.Tests.Mongo;

/// <summary>crm-sync's ledger on MongoDB: one upsert that only ever inserts, keyed by the signup id.</summary>
public sealed class Rendering_the_contact_sync_ledger_queries
{
    static Rendering_the_contact_sync_ledger_queries() => MongoContactSyncLedger.RegisterClassMap();

    static readonly Guid Id = Guid.Parse("0b6c7e1d-7a0e-4f55-9a43-2f7d3c1e8b20");

    [Fact]
    public void An_entry_should_be_found_by_its_signup_id_as_a_standard_guid()
    {
        Assert.Equal(new BsonDocument("_id", StandardGuid(Id)), Render(MongoContactSyncLedger.ById(Id)));
    }

    [Fact]
    public void Recording_should_set_every_field_on_insert_only_and_leave_the_id_to_the_filter()
    {
        var at = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
        var rendered = Render(MongoContactSyncLedger.InsertIfAbsent(new ContactSyncEntry(Id, null, true, null, at)));

        // Anything under $set would overwrite the first writer's answer.
        Assert.Equal(["$setOnInsert"], rendered.Names);
        var onInsert = rendered["$setOnInsert"].AsBsonDocument;
        Assert.Equal(["ContactId", "Created", "FailureReason", "RecordedAt"], onInsert.Names);
        Assert.Equal(BsonNull.Value, onInsert["ContactId"]);
        Assert.True(onInsert["Created"].AsBoolean);
        Assert.Equal(BsonType.String, onInsert["RecordedAt"].BsonType);
    }

    [Fact]
    public void Recording_should_upsert_and_return_the_entry_that_stands()
    {
        var options = MongoContactSyncLedger.RecordOptions;
        Assert.True(options.IsUpsert);
        Assert.Equal(ReturnDocument.After, options.ReturnDocument);
    }
}

/// <summary>The invite link's ledger on MongoDB: the capped take, the give-back, and the inserts that only insert.</summary>
public sealed class Rendering_the_invite_link_ledger_queries
{
    static Rendering_the_invite_link_ledger_queries() => MongoInviteLinkLedger.RegisterClassMaps();

    static readonly Guid Id = Guid.Parse("3d2b8f4e-51a6-4c09-8e7b-6a1f0c9d2e44");
    const string Link = "5f2a0c9e1b7d4e3a8c6b0f1e2d3c4b5a";

    [Fact]
    public void Taking_a_use_should_match_only_below_the_cap_and_only_a_signup_not_yet_holding_one()
    {
        var rendered = Render(MongoInviteLinkLedger.FreeFor(Id, Link, maxUses: 400));
        Assert.Equal(new BsonDocument
        {
            { "_id", Link },
            { "Holders", new BsonDocument("$ne", StandardGuid(Id)) },
            { "Uses", new BsonDocument("$lt", 400) },
        }, rendered);
    }

    [Fact]
    public void Without_a_cap_taking_a_use_should_still_refuse_a_second_for_the_same_signup()
    {
        var rendered = Render(MongoInviteLinkLedger.FreeFor(Id, Link, maxUses: null));
        Assert.Equal(new BsonDocument { { "_id", Link }, { "Holders", new BsonDocument("$ne", StandardGuid(Id)) } }, rendered);
    }

    [Fact]
    public void Taking_a_use_should_count_it_and_name_its_holder_in_one_update()
    {
        Assert.Equal(new BsonDocument
        {
            { "$inc", new BsonDocument("Uses", 1) },
            { "$push", new BsonDocument("Holders", StandardGuid(Id)) },
        }, Render(MongoInviteLinkLedger.Take(Id)));
    }

    [Fact]
    public void The_take_should_not_upsert_so_a_full_counter_is_never_replaced()
    {
        Assert.False(MongoInviteLinkLedger.TakeOptions.IsUpsert);
        Assert.Equal(ReturnDocument.After, MongoInviteLinkLedger.TakeOptions.ReturnDocument);
    }

    [Fact]
    public void Giving_a_use_back_should_match_only_while_the_signup_holds_it()
    {
        Assert.Equal(new BsonDocument { { "_id", Link }, { "Holders", StandardGuid(Id) } }, Render(MongoInviteLinkLedger.HeldBy(Id, Link)));
        Assert.Equal(new BsonDocument
        {
            { "$inc", new BsonDocument("Uses", -1) },
            { "$pull", new BsonDocument("Holders", StandardGuid(Id)) },
        }, Render(MongoInviteLinkLedger.GiveBack(Id)));
    }

    [Fact]
    public void A_new_link_counter_should_start_empty_without_touching_an_existing_one()
    {
        Assert.Equal(new BsonDocument("$setOnInsert", new BsonDocument { { "Uses", 0 }, { "Holders", new BsonArray() } }),
            Render(MongoInviteLinkLedger.StartEmpty));
        Assert.Equal(new BsonDocument("_id", Link), Render(MongoInviteLinkLedger.CounterOf(Link)));
    }

    [Fact]
    public void A_reservation_should_be_written_on_insert_only_and_unsent()
    {
        var rendered = Render(MongoInviteLinkLedger.ReserveIfAbsent(Link, DateTimeOffset.Parse("2026-11-25T10:00:00Z")));
        Assert.Equal(["$setOnInsert"], rendered.Names);
        var onInsert = rendered["$setOnInsert"].AsBsonDocument;
        Assert.Equal(["LinkKey", "ReservedAt", "SentAt"], onInsert.Names);
        Assert.Equal(Link, onInsert["LinkKey"].AsString);
        Assert.Equal(BsonNull.Value, onInsert["SentAt"]);
    }

    [Fact]
    public void Marking_sent_and_releasing_should_only_touch_an_unsent_use_of_that_signup()
    {
        Assert.Equal(new BsonDocument { { "_id", StandardGuid(Id) }, { "SentAt", BsonNull.Value } }, Render(MongoInviteLinkLedger.UnsentUseOf(Id)));
        Assert.Equal(new BsonDocument { { "_id", StandardGuid(Id) }, { "SentAt", new BsonDocument("$ne", BsonNull.Value) } },
            Render(MongoInviteLinkLedger.SentUseOf(Id)));
        var sent = Render(MongoInviteLinkLedger.Sent(DateTimeOffset.Parse("2026-11-25T10:00:02Z")));
        Assert.Equal(["$set"], sent.Names);
        Assert.Equal(["SentAt"], sent["$set"].AsBsonDocument.Names);
    }

    [Fact]
    public void A_warning_should_be_keyed_by_link_kind_and_day_and_written_on_insert_only()
    {
        var day = new DateOnly(2026, 11, 25);
        Assert.Equal(new BsonDocument("_id", $"{Link}:uses:2026-11-25"), Render(MongoInviteLinkLedger.WarningOf(Link, "uses", day)));
        Assert.Equal(new BsonDocument("$setOnInsert", new BsonDocument { { "LinkKey", Link }, { "Kind", "uses" }, { "Day", "2026-11-25" } }),
            Render(MongoInviteLinkLedger.WarnIfAbsent(Link, "uses", day)));
    }
}
