using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.Store.Persistence;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.Tests.Mongo;

/// <summary>
/// Renders the filters, updates and index keys the MongoDB adapters send, with the adapters' own class maps and no
/// server, so a wrong field name or a missing guard fails here on a machine without MongoDB.
/// </summary>
public sealed class Rendering_the_mongodb_queries
{
    static Rendering_the_mongodb_queries()
    {
        MongoSagaStore<SignupState>.RegisterClassMap();
        MongoSignupRepository.RegisterClassMap();
        MongoSignupLedger.RegisterClassMap();
    }

    internal static BsonDocument Render<T>(FilterDefinition<T> filter) =>
        filter.Render(new RenderArgs<T>(BsonSerializer.LookupSerializer<T>(), BsonSerializer.SerializerRegistry));

    internal static BsonDocument Render<T>(UpdateDefinition<T> update) =>
        update.Render(new RenderArgs<T>(BsonSerializer.LookupSerializer<T>(), BsonSerializer.SerializerRegistry)).AsBsonDocument;

    static BsonDocument Render<T>(IndexKeysDefinition<T> keys) =>
        keys.Render(new RenderArgs<T>(BsonSerializer.LookupSerializer<T>(), BsonSerializer.SerializerRegistry));

    static readonly Guid Id = Guid.Parse("6f1c1a52-2a5e-4d8c-9d1e-3b0f5b7a9c11");

    internal static BsonBinaryData StandardGuid(Guid id) => new(id, GuidRepresentation.Standard);

    [Fact]
    public void The_saga_update_should_be_guarded_by_id_and_loaded_version()
    {
        var rendered = Render(MongoSagaStore<SignupState>.AtVersion(Id, 4));
        Assert.Equal(new BsonDocument { { "_id", StandardGuid(Id) }, { "Version", 4 } }, rendered);
    }

    [Fact]
    public void The_saga_delete_should_not_remove_a_newer_version()
    {
        var rendered = Render(MongoSagaStore<SignupState>.NotNewerThan(Id, 4));
        Assert.Equal(new BsonDocument { { "_id", StandardGuid(Id) }, { "Version", new BsonDocument("$lte", 4) } }, rendered);
    }

    [Fact]
    public void The_deadline_sweep_should_compare_utc_deadline_strings_in_the_waiting_states()
    {
        // Local offset on purpose: the query is made in UTC, as the deadlines are stored.
        var now = new DateTimeOffset(2026, 11, 25, 13, 0, 0, 500, TimeSpan.FromHours(2));
        var rendered = Render<SignupState>(new ExpressionFilterDefinition<SignupState>(SignupDeadlines.Overdue(now)));

        Assert.Equal(new BsonDocument
        {
            { "Deadline", new BsonDocument { { "$ne", BsonNull.Value }, { "$lt", "2026-11-25T11:00:00.5+00:00" } } },
            { "CurrentState", new BsonDocument("$in", new BsonArray { "Processing", "Inviting", "AwaitingApproval", "AwaitingConfirmation" }) },
        }, rendered);
        // The string order is the time order for UTC values, with or without a (trimmed) fraction.
        Assert.True(string.CompareOrdinal("2026-11-25T11:00:00+00:00", "2026-11-25T11:00:00.5+00:00") < 0);
        Assert.True(string.CompareOrdinal("2026-11-25T11:00:00.12+00:00", "2026-11-25T11:00:00.5+00:00") < 0);
    }

    [Fact]
    public void The_stalled_sweep_should_compare_utc_update_strings_and_the_pending_command_statuses()
    {
        // Local offset on purpose: the cut-off is made in UTC, as UpdatedAt is written.
        var now = new DateTimeOffset(2026, 11, 25, 13, 2, 0, 500, TimeSpan.FromHours(2));
        var rendered = Render<SignupState>(new ExpressionFilterDefinition<SignupState>(SignupDeadlines.Stalled(now, TimeSpan.FromMinutes(2), now)));

        // UpdatedAt before the cut-off, and Inviting with the invite sent, Failed with an undo sent, or awaiting
        // confirmation with the mail not reported sent (null also matches a document written before the field existed).
        Assert.Equal(new BsonDocument("$and", new BsonArray
        {
            new BsonDocument("UpdatedAt", new BsonDocument("$lt", "2026-11-25T11:00:00.5+00:00")),
            new BsonDocument("$or", new BsonArray
            {
                new BsonDocument { { "CurrentState", "Inviting" }, { "SlackStatus", "Running" } },
                new BsonDocument("$and", new BsonArray
                {
                    new BsonDocument("CurrentState", "Failed"),
                    new BsonDocument("$or", new BsonArray { new BsonDocument("CrmStatus", "Compensating"), new BsonDocument("StoreStatus", "Compensating") }),
                }),
                new BsonDocument { { "CurrentState", "AwaitingConfirmation" }, { "ConfirmationMailSentAt", BsonNull.Value } },
            }),
        }), rendered);

        // The last disruption earlier than the interval: the cut-off is just after it.
        var disruption = new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero);
        var afterDisruption = Render<SignupState>(new ExpressionFilterDefinition<SignupState>(SignupDeadlines.Stalled(now, TimeSpan.FromMinutes(2), disruption)));
        Assert.Equal(new BsonDocument("$lt", "2026-11-25T10:30:00.0000001+00:00"), afterDisruption["$and"][0]["UpdatedAt"]);
    }

    [Fact]
    public void Saga_ids_should_be_standard_binary_guids()
    {
        var rendered = Render(MongoSagaStore<SignupState>.ById(Id));
        var id = rendered["_id"].AsBsonBinaryData;
        Assert.Equal(BsonBinarySubType.UuidStandard, id.SubType);
    }

    [Fact]
    public void The_signup_email_index_should_be_unique_on_the_normalized_email()
    {
        var index = MongoSignupRepository.EmailIndex;
        Assert.Equal(new BsonDocument("NormalizedEmail", 1), Render(index.Keys));
        Assert.True(index.Options.Unique);
    }

    [Fact]
    public void Marking_a_signup_failed_should_set_status_reason_and_time_only()
    {
        var at = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
        var rendered = Render(MongoSignupRepository.MarkFailedUpdate("slack:invalid_email", at));
        var set = rendered["$set"].AsBsonDocument;
        Assert.Single(rendered.Names);
        Assert.Equal(["Status", "FailureReason", "UpdatedAt"], set.Names);
        Assert.Equal("Failed", set["Status"].AsString);
        Assert.Equal("slack:invalid_email", set["FailureReason"].AsString);
    }

    [Fact]
    public void Retiring_a_failed_email_should_only_touch_that_failed_record()
    {
        var failed = new SignupRecord(Id, "N", "a@example.com", "a@example.com", SignupRecord.Failed, "x", default, default);
        var filter = Render(MongoSignupRepository.FailedHolder(failed));
        Assert.Equal(new BsonDocument { { "_id", StandardGuid(Id) }, { "Status", "Failed" }, { "NormalizedEmail", "a@example.com" } }, filter);
        var update = Render(MongoSignupRepository.RetireEmail(failed));
        Assert.Equal($"a@example.com#failed:{Id}", update["$set"]["NormalizedEmail"].AsString);
    }

    [Fact]
    public void The_ledger_should_key_on_the_email_and_index_the_signup_id()
    {
        var holder = Render(MongoSignupLedger.HeldBy("a@example.com", Id));
        Assert.Equal(new BsonDocument { { "_id", "a@example.com" }, { "SignupId", StandardGuid(Id) } }, holder);
        Assert.Equal(new BsonDocument("SignupId", 1), Render(MongoSignupLedger.SignupIdIndex.Keys));
        Assert.True(MongoSignupLedger.SignupIdIndex.Options.Unique);
    }
}

public sealed class Rendering_the_outbox_queries
{
    static Rendering_the_outbox_queries() => MongoSignupLedger.RegisterClassMap();

    [Fact]
    public void The_outbox_should_only_pick_entries_with_a_payload_not_yet_published()
    {
        var at = DateTimeOffset.Parse("2026-11-25T10:00:00Z");
        var filter = MongoSignupLedger.WaitingSince(at)
            .Render(new RenderArgs<AcceptedSignup>(BsonSerializer.LookupSerializer<AcceptedSignup>(), BsonSerializer.SerializerRegistry));
        Assert.Equal(new BsonDocument("$type", 2), filter["Payload"]);
        Assert.Equal(new BsonDocument("$type", 10), filter["PublishedAt"]);
        Assert.True(filter["AcceptedAt"].AsBsonDocument.Contains("$lt"));

        var index = MongoSignupLedger.UnpublishedIndex;
        var partial = index.Options.PartialFilterExpression
            .Render(new RenderArgs<AcceptedSignup>(BsonSerializer.LookupSerializer<AcceptedSignup>(), BsonSerializer.SerializerRegistry));
        Assert.Equal(["Payload", "PublishedAt"], partial.Names);
    }
}
