using Joinery.Gateway.Admin;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.Tests.Gateway;

/// <summary>
/// The admin listing's filters and order as MongoDB receives them, rendered with the saga store's class map and no
/// server, so the listing is known to translate where the MongoDB contract tests cannot run.
/// </summary>
public sealed class Rendering_the_admin_listing_for_mongodb
{
    static Rendering_the_admin_listing_for_mongodb() => MongoSagaStore<SignupState>.RegisterClassMap();

    static BsonDocument Render(FilterDefinition<SignupState> filter) =>
        filter.Render(new RenderArgs<SignupState>(BsonSerializer.LookupSerializer<SignupState>(), BsonSerializer.SerializerRegistry));

    [Fact]
    public void Searching_by_state_and_part_of_an_email_is_a_server_side_match()
    {
        var rendered = Render(Builders<SignupState>.Filter.Where(AdminEndpoints.Filter("Failed", " Ada.L@Example ")));
        var clauses = rendered["$and"].AsBsonArray.Select(c => c.AsBsonDocument).ToList();
        Assert.Contains(new BsonDocument("CurrentState", "Failed"), clauses);
        // Lower-cased like the stored normalized email, and escaped: a dot in the search is a dot, not "any character".
        var regex = clauses.Select(c => c.GetValue("NormalizedEmail", BsonNull.Value)).OfType<BsonRegularExpression>().Single();
        Assert.Equal(@"ada\.l@example", regex.Pattern);
    }

    [Fact]
    public void No_criteria_match_everything()
    {
        Assert.Equal(new BsonDocument(), Render(Builders<SignupState>.Filter.Where(AdminEndpoints.Filter(null, " "))));
        Assert.Equal(new BsonDocument("CurrentState", "Completed"), Render(Builders<SignupState>.Filter.Where(AdminEndpoints.Filter("Completed", null))));
    }

    [Fact]
    public void Pages_are_ordered_newest_first_then_by_id()
    {
        var sort = MongoSagaStore<SignupState>.NewestFirst(s => s.CreatedAt)
            .Render(new RenderArgs<SignupState>(BsonSerializer.LookupSerializer<SignupState>(), BsonSerializer.SerializerRegistry));
        Assert.Equal(new BsonDocument { { "CreatedAt", -1 }, { "_id", 1 } }, sort);
    }
}
