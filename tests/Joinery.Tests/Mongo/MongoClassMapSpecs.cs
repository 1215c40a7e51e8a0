using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
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
        };
        var (document, back) = RoundTrip(saga);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(saga), System.Text.Json.JsonSerializer.Serialize(back));
        Assert.Equal(BsonBinarySubType.UuidStandard, document["_id"].AsBsonBinaryData.SubType);
        Assert.Equal(3, document["Version"].AsInt32);
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
}
