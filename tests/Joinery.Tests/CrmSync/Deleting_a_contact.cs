using System.Net;
using Joinery.Contracts;
using MassTransit;

namespace Joinery.Tests.CrmSync;

public sealed class Deleting_a_contact
{
    [Fact]
    public async Task Should_report_deleted_when_the_crm_deletes_the_contact()
    {
        var crm = new StubActiveCampaign().Then(HttpStatusCode.OK, "{}");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signupId = Guid.NewGuid();

        await host.Harness.Bus.Publish(new DeleteContact(signupId, "123"));

        Assert.True(await host.Harness.Published.Any<ContactDeleted>(x => x.Context.Message.SignupId == signupId));
        var request = Assert.Single(crm.Requests);
        Assert.Equal(HttpMethod.Delete, request.Method);
        Assert.Equal(CrmSyncTestHost.BaseUrl + "/api/3/contacts/123", request.Uri.ToString());
        Assert.Equal(CrmSyncTestHost.ApiToken, request.Headers["Api-Token"]);
    }

    [Fact]
    public async Task Should_report_deleted_when_the_contact_is_already_gone()
    {
        var crm = new StubActiveCampaign().Then(HttpStatusCode.NotFound, """{"message":"No Result found for Subscriber with id 123"}""");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signupId = Guid.NewGuid();

        await host.Harness.Bus.Publish(new DeleteContact(signupId, "123"));

        Assert.True(await host.Harness.Published.Any<ContactDeleted>(x => x.Context.Message.SignupId == signupId));
        Assert.Single(crm.Requests);
    }

    [Fact]
    public async Task Should_retry_after_a_429_and_then_report_deleted()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""")
            .Then(HttpStatusCode.OK, "{}");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signupId = Guid.NewGuid();

        await host.Harness.Bus.Publish(new DeleteContact(signupId, "123"));

        Assert.True(await host.Harness.Published.Any<ContactDeleted>(x => x.Context.Message.SignupId == signupId));
        Assert.Equal(2, crm.Requests.Count);
    }

    [Fact]
    public async Task Should_fault_without_claiming_deleted_when_the_crm_refuses()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.Forbidden, """{"message":"forbidden"}""");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signupId = Guid.NewGuid();

        await host.Harness.Bus.Publish(new DeleteContact(signupId, "123"));

        Assert.True(await host.Harness.Published.Any<Fault<DeleteContact>>(x => x.Context.Message.Message.SignupId == signupId));
        Assert.False(await host.Harness.Published.Any<ContactDeleted>());
        // A refusal is not retried.
        Assert.Single(crm.Requests);
    }
}
