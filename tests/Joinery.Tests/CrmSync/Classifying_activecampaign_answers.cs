using System.Net;
using Joinery.CrmSync;
using Joinery.ServiceDefaults.Retry;

namespace Joinery.Tests.CrmSync;

public sealed class Classifying_activecampaign_answers
{
    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task Should_treat_the_answer_as_transient(HttpStatusCode status)
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Always(status, "{}"));

        await Assert.ThrowsAsync<TransientApiException>(() =>
            host.Client().SyncContact("ada@example.org", "Ada", CancellationToken.None));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, """{"errors":[{"code":"field_missing"}]}""", "activecampaign:400:field_missing")]
    [InlineData(HttpStatusCode.Unauthorized, "", "activecampaign:401")]
    [InlineData(HttpStatusCode.UnprocessableEntity, """{"errors":[{"title":"Duplicate","code":"duplicate"},{"code":"other"}]}""", "activecampaign:422:duplicate")]
    [InlineData(HttpStatusCode.UnprocessableEntity, "<html>not json</html>", "activecampaign:422")]
    public async Task Should_treat_the_answer_as_a_permanent_refusal(HttpStatusCode status, string body, string reason)
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Always(status, body));

        var result = await host.Client().SyncContact("ada@example.org", "Ada", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(reason, result.FailureReason);
    }

    [Fact]
    public async Task Should_refuse_a_success_that_names_no_contact()
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Always(HttpStatusCode.Created, """{"contact":{}}"""));

        var result = await host.Client().SyncContact("ada@example.org", "Ada", CancellationToken.None);

        Assert.Equal("activecampaign:201:unreadable_response", result.FailureReason);
    }

    [Fact]
    public async Task Should_read_a_numeric_contact_id()
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Always(HttpStatusCode.Created, """{"contact":{"id":321}}"""));

        var result = await host.Client().SyncContact("ada@example.org", "Ada", CancellationToken.None);

        Assert.Equal("321", result.ContactId);
        Assert.True(result.Created);
    }
}
