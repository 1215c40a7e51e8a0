using Joinery.CrmSync.Ledger;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.SlackInvite.InviteLink;
using Joinery.Store.Persistence;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;

namespace Joinery.Tests.Mongo;

/// <summary>Every persisted document, written with the adapters' class maps and read back unchanged.</summary>
public sealed class Round_tripping_the_mongodb_documents
{
    static Round_tripping_the_mongodb_documents()
    {
        MongoSagaStore<SignupState>.RegisterClassMap();
        MongoSignupRepository.RegisterClassMap();
        MongoSignupLedger.RegisterClassMap();
        MongoContactSyncLedger.RegisterClassMap();
        MongoInviteLinkLedger.RegisterClassMaps();
    }

    static (BsonDocument Document, T Back) RoundTrip<T>(T value)
    {
        var document = value.ToBsonDocument();
        // Through the wire format too, as the driver would send and receive it.
        var bytes = document.ToBson();
        var back = BsonSerializer.Deserialize<T>(new BsonBinaryReader(new MemoryStream(bytes)));
        return (document, back);
    }

    [Fact]
    public void A_signup_record_should_come_back_equal()
    {
        var record = new SignupRecord(Guid.NewGuid(), "Émilie du Châtelet", "Emilie@Example.com", "emilie@example.com", SignupRecord.Failed,
            "slack:invalid_email", DateTimeOffset.Parse("2026-11-25T10:00:00+00:00"), DateTimeOffset.Parse("2026-11-25T10:00:05+00:00"));
        var (document, back) = RoundTrip(record);
        Assert.Equal(record, back);
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.False(document.Contains("SignupId"));
    }

    [Fact]
    public void A_saga_instance_should_come_back_equal()
    {
        var saga = new SignupState
        {
            CorrelationId = Guid.NewGuid(), Version = 3, CurrentState = "Failed", Requested = true, Name = "Ada", Email = "Ada@Example.com",
            NormalizedEmail = "ada@example.com", StoreStatus = StepStatus.Compensated, StoreDetail = null, CrmStatus = StepStatus.Compensating,
            CrmDetail = "created", CrmContactId = "42", CrmCreated = true, SlackStatus = StepStatus.Failed, SlackDetail = "slack:invalid_email",
            FailureReason = "slack:invalid_email", CreatedAt = DateTimeOffset.Parse("2026-11-25T10:00:00Z"), UpdatedAt = DateTimeOffset.Parse("2026-11-25T10:00:01Z"),
            ConfirmationTokenHashes = "ab12 cd34", ConfirmationMailedAt = DateTimeOffset.Parse("2026-11-25T09:59:00Z"),
            ConfirmationMailSentAt = DateTimeOffset.Parse("2026-11-25T09:59:02Z"), EmailConfirmedAt = DateTimeOffset.Parse("2026-11-25T09:59:30Z"),
        };
        var (document, back) = RoundTrip(saga);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(saga), System.Text.Json.JsonSerializer.Serialize(back));
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.Equal(3, document["Version"].AsInt32);
        // The stalled sweep compares it with null: a mail reported sent must be written as a value.
        Assert.Equal("2026-11-25T09:59:02+00:00", document["ConfirmationMailSentAt"].AsString);
    }

    [Fact]
    public void A_ledger_entry_should_come_back_equal()
    {
        var entry = new AcceptedSignup { NormalizedEmail = "ada@example.com", SignupId = Guid.NewGuid(), AcceptedAt = DateTimeOffset.Parse("2026-11-25T10:00:00Z") };
        var (document, back) = RoundTrip(entry);
        Assert.Equal(entry.SignupId, back.SignupId);
        Assert.Equal(entry.NormalizedEmail, back.NormalizedEmail);
        Assert.Equal(entry.AcceptedAt, back.AcceptedAt);
        Assert.Equal("ada@example.com", document["_id"].AsString);
    }

    [Fact]
    public void A_contact_sync_entry_should_come_back_equal_offset_included()
    {
        var entry = new ContactSyncEntry(Guid.NewGuid(), "123", true, null, DateTimeOffset.Parse("2026-11-25T10:00:00.1234567+01:00"));
        var (document, back) = RoundTrip(entry);
        Assert.Equal(entry, back);
        Assert.Equal(entry.RecordedAt.Offset, back.RecordedAt.Offset);
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.False(document.Contains("SignupId"));
        // Kept as null rather than left out, the same shape the $setOnInsert writes.
        Assert.Equal(BsonNull.Value, document["FailureReason"]);
    }

    [Fact]
    public void A_recorded_refusal_should_come_back_equal()
    {
        var refusal = new ContactSyncEntry(Guid.NewGuid(), null, false, "activecampaign:422:email_invalid", DateTimeOffset.Parse("2026-11-25T10:00:00Z"));
        var (document, back) = RoundTrip(refusal);
        Assert.Equal(refusal, back);
        Assert.Equal(BsonNull.Value, document["ContactId"]);
    }

    [Fact]
    public void An_invite_link_use_should_come_back_equal_sent_or_not()
    {
        var reserved = new InviteLinkUse { SignupId = Guid.NewGuid(), LinkKey = "5f2a0c9e", ReservedAt = DateTimeOffset.Parse("2026-11-25T10:00:00Z") };
        var (document, back) = RoundTrip(reserved);
        Assert.Equal((reserved.SignupId, reserved.LinkKey, reserved.ReservedAt, (DateTimeOffset?)null), (back.SignupId, back.LinkKey, back.ReservedAt, back.SentAt));
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        // The unsent filter matches on SentAt: null, so the field is written as null.
        Assert.Equal(BsonNull.Value, document["SentAt"]);

        var sent = new InviteLinkUse { SignupId = reserved.SignupId, LinkKey = reserved.LinkKey, ReservedAt = reserved.ReservedAt, SentAt = DateTimeOffset.Parse("2026-11-25T10:00:02Z") };
        Assert.Equal(sent.SentAt, RoundTrip(sent).Back.SentAt);
    }

    [Fact]
    public void An_invite_link_counter_should_come_back_with_its_holders()
    {
        var counter = new InviteLinkCounter { LinkKey = "5f2a0c9e", Uses = 2, Holders = [Guid.NewGuid(), Guid.NewGuid()] };
        var (document, back) = RoundTrip(counter);
        Assert.Equal((counter.LinkKey, counter.Uses), (back.LinkKey, back.Uses));
        Assert.Equal(counter.Holders, back.Holders);
        Assert.Equal("5f2a0c9e", document["_id"].AsString);
        Assert.All(document["Holders"].AsBsonArray, h => Assert.Equal(BsonBinarySubType.UuidStandard, h.AsBsonBinaryData.SubType));
    }

    [Fact]
    public void An_invite_link_warning_should_come_back_equal()
    {
        var warning = new InviteLinkWarning
        {
            Id = InviteLinkWarning.IdOf("5f2a0c9e", "expiry", new DateOnly(2026, 11, 25)), LinkKey = "5f2a0c9e", Kind = "expiry", Day = "2026-11-25",
        };
        var (document, back) = RoundTrip(warning);
        Assert.Equal((warning.Id, warning.LinkKey, warning.Kind, warning.Day), (back.Id, back.LinkKey, back.Kind, back.Day));
        Assert.Equal("5f2a0c9e:expiry:2026-11-25", document["_id"].AsString);
    }
}
