using System.Net;
using System.Text.Json;
using Joinery.Contracts;
using MassTransit.Testing;

namespace Joinery.Tests.CrmSync;

public sealed class Syncing_a_contact
{
    static SignupRequested Signup(Guid? id = null) =>
        new(id ?? Guid.NewGuid(), "Ada Lovelace", "Ada@Example.org", "ada@example.org", DateTimeOffset.UtcNow);

    static async Task<T> PublishedOne<T>(ITestHarness harness, Guid signupId) where T : class
    {
        Assert.True(await harness.Published.Any<T>(x => SignupIdOf(x.Context.Message) == signupId),
            $"expected {typeof(T).Name} for {signupId}");
        return harness.Published.Select<T>(x => SignupIdOf(x.Context.Message) == signupId).First().Context.Message;
    }

    static Guid SignupIdOf(object message) => message switch
    {
        ContactSynced m => m.SignupId,
        ContactSyncFailed m => m.SignupId,
        _ => Guid.Empty,
    };

    [Fact]
    public async Task Should_report_created_when_the_crm_answers_201()
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Then(HttpStatusCode.Created, StubActiveCampaign.Contact("123")));
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.Equal(new ContactSynced(signup.SignupId, "123", Created: true, Skipped: false, Attempts: 1), synced);
    }

    [Fact]
    public async Task Should_report_not_created_when_the_crm_answers_200_for_an_existing_contact()
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Then(HttpStatusCode.OK, StubActiveCampaign.Contact("77")));
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.Equal(new ContactSynced(signup.SignupId, "77", Created: false, Skipped: false, Attempts: 1), synced);
    }

    [Fact]
    public async Task Should_send_the_api_token_and_the_contact_to_the_sync_endpoint()
    {
        await using var host = await CrmSyncTestHost.Start(new StubActiveCampaign().Then(HttpStatusCode.Created, StubActiveCampaign.Contact("1")));
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);
        await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);

        var request = Assert.Single(host.Crm.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(CrmSyncTestHost.BaseUrl + "/api/3/contact/sync", request.Uri.ToString());
        Assert.Equal(CrmSyncTestHost.ApiToken, request.Headers["Api-Token"]);

        using var body = JsonDocument.Parse(request.Body!);
        var contact = body.RootElement.GetProperty("contact");
        Assert.Equal(signup.Email, contact.GetProperty("email").GetString());
        Assert.Equal(signup.Name, contact.GetProperty("firstName").GetString());
        Assert.Equal("", contact.GetProperty("lastName").GetString());
    }

    [Fact]
    public async Task Should_report_a_permanent_refusal_with_the_crm_error_code()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.UnprocessableEntity,
            """{"errors":[{"title":"Email address is not valid.","detail":"","code":"email_invalid","source":{"pointer":"/data/attributes/email"}}]}""");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var failed = await PublishedOne<ContactSyncFailed>(host.Harness, signup.SignupId);
        Assert.Equal("activecampaign:422:email_invalid", failed.Reason);
        Assert.Single(crm.Requests);
        Assert.False(await host.Harness.Published.Any<ContactSynced>());
    }

    [Fact]
    public async Task Should_report_the_status_alone_when_a_refusal_has_no_error_code()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.Forbidden, """{"message":"You are not authorized to access this resource"}""");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var failed = await PublishedOne<ContactSyncFailed>(host.Harness, signup.SignupId);
        Assert.Equal("activecampaign:403", failed.Reason);
    }

    [Fact]
    public async Task Should_retry_after_a_503_and_then_report_the_contact()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.ServiceUnavailable, """{"message":"down for maintenance"}""")
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("42"));
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.Equal(new ContactSynced(signup.SignupId, "42", Created: true, Skipped: false, Attempts: 2), synced);
        Assert.Equal(2, crm.Requests.Count);
        Assert.False(await host.Harness.Published.Any<ContactSyncFailed>());
    }

    [Fact]
    public async Task Should_retry_when_the_crm_does_not_answer_in_time()
    {
        var crm = new StubActiveCampaign().ThenNoAnswer().Then(HttpStatusCode.OK, StubActiveCampaign.Contact("9"));
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:Timeout"] = "00:00:00.200",
        });
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.Equal("9", synced.ContactId);
        Assert.Equal(2, crm.Requests.Count);
    }

    [Fact]
    public async Task Should_answer_a_redelivery_from_the_ledger_without_calling_the_crm_again()
    {
        // Were the CRM asked again it would say "updated" (200): the redelivery must still say "created".
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("123"))
            .Always(HttpStatusCode.OK, StubActiveCampaign.Contact("123"));
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);
        await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        await host.Harness.Bus.Publish(signup);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reports = new List<ContactSynced>();
        await foreach (var published in host.Harness.Published.SelectAsync<ContactSynced>(timeout.Token))
        {
            reports.Add(published.Context.Message);
            if (reports.Count == 2)
                break;
        }

        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.Equal(new ContactSynced(signup.SignupId, "123", Created: true, Skipped: false, Attempts: 1), r));
        Assert.Single(crm.Requests);
    }

    [Fact]
    public async Task Should_remember_the_outcome_across_a_restart()
    {
        var dataDirectory = CrmSyncTestHost.NewDataDirectory();
        try
        {
            var signup = Signup();
            await SyncOnce(new StubActiveCampaign().Then(HttpStatusCode.Created, StubActiveCampaign.Contact("5")), signup, dataDirectory);

            var crm = new StubActiveCampaign().Always(HttpStatusCode.OK, StubActiveCampaign.Contact("5"));
            var synced = await SyncOnce(crm, signup, dataDirectory);

            Assert.True(synced.Created);
            Assert.Empty(crm.Requests);
        }
        finally
        {
            CrmSyncTestHost.DeleteDataDirectory(dataDirectory);
        }
    }

    // One host's whole life in its own async method: MassTransit keeps its log context in an AsyncLocal, which must
    // not outlive the container that owns the logger factory.
    static async Task<ContactSynced> SyncOnce(StubActiveCampaign crm, SignupRequested signup, string dataDirectory)
    {
        await using var host = await CrmSyncTestHost.Start(crm, dataDirectory: dataDirectory);
        await host.Harness.Bus.Publish(signup);
        return await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
    }

    [Fact]
    public async Task Should_republish_a_recorded_refusal_without_calling_the_crm_again()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.UnprocessableEntity, """{"errors":[{"code":"email_invalid"}]}""");
        await using var host = await CrmSyncTestHost.Start(crm);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);
        await PublishedOne<ContactSyncFailed>(host.Harness, signup.SignupId);
        await host.Harness.Bus.Publish(signup);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var count = 0;
        await foreach (var published in host.Harness.Published.SelectAsync<ContactSyncFailed>(timeout.Token))
        {
            Assert.Equal("activecampaign:422:email_invalid", published.Context.Message.Reason);
            if (++count == 2)
                break;
        }
        Assert.Equal(2, count);
        Assert.Single(crm.Requests);
    }

    [Fact]
    public async Task Should_report_skipped_without_calling_when_activecampaign_is_not_configured()
    {
        var crm = new StubActiveCampaign();
        await using var host = await CrmSyncTestHost.Start(crm, configured: false);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.Equal(new ContactSynced(signup.SignupId, null, Created: false, Skipped: true, Attempts: 1), synced);
        Assert.Empty(crm.Requests);
    }

    [Fact]
    public async Task Should_count_as_not_configured_when_the_token_is_missing()
    {
        var crm = new StubActiveCampaign();
        await using var host = await CrmSyncTestHost.Start(crm, configured: false, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:BaseUrl"] = CrmSyncTestHost.BaseUrl,
        });
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        var synced = await PublishedOne<ContactSynced>(host.Harness, signup.SignupId);
        Assert.True(synced.Skipped);
        Assert.Empty(crm.Requests);
    }
}
