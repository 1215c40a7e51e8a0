using System.Net;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.CrmSync.ActiveCampaign;
using Joinery.Tests.Support;
using MassTransit.Testing;

namespace Joinery.Tests.CrmSync;

/// <summary>The contact's list and tags after the sync, the name rule, the client-side rate limit and the retry deadline.</summary>
public sealed class Adding_to_the_list_and_tags
{
    static SignupRequested Signup(string name = "Ada Lovelace") =>
        new(Guid.NewGuid(), name, "ada@example.org", "ada@example.org", DateTimeOffset.UtcNow);

    static readonly Dictionary<string, string?> ListAndTags = new()
    {
        ["ActiveCampaign:ListId"] = "7",
        ["ActiveCampaign:TagIds"] = "3, 9",
        ["ActiveCampaign:Retry:InitialDelay"] = "00:00:00.050",
    };

    static async Task<T> PublishedOne<T>(ITestHarness harness, Func<T, bool> filter) where T : class
    {
        Assert.True(await harness.Published.Any<T>(x => filter(x.Context.Message)), $"expected {typeof(T).Name}");
        return harness.Published.Select<T>(x => filter(x.Context.Message)).First().Context.Message;
    }

    [Theory]
    [InlineData("Mary Ann Smith")]
    [InlineData("Ludwig van Beethoven")]
    [InlineData("Madonna")]
    [InlineData("Nguyễn Thị Minh Khai")]
    public void A_full_name_is_never_split_by_guesswork(string name)
    {
        Assert.Equal(new ContactName(name, ""), ContactName.From(name));
        Assert.Equal(new ContactName("Mary Ann", "Smith"), ContactName.From("Mary Ann Smith", "Mary Ann", "Smith"));
        Assert.Equal(new ContactName(name, ""), ContactName.From($"  {name} ", "Mary", null));
    }

    [Fact]
    public async Task The_contact_is_subscribed_to_the_list_and_tagged()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("42"))
            .Then(HttpStatusCode.Created, """{"contactList":{"id":"1"}}""")
            .Then(HttpStatusCode.Created, """{"contactTag":{"id":"1"}}""")
            .Then(HttpStatusCode.OK, """{"contactTag":{"id":"2"}}""");
        await using var host = await CrmSyncTestHost.Start(crm, settings: ListAndTags);
        var signup = Signup("Mary Ann Smith");

        await host.Harness.Bus.Publish(signup);

        Assert.Equal(new ContactSynced(signup.SignupId, "42", Created: true, Skipped: false, Attempts: 1),
            await PublishedOne<ContactSynced>(host.Harness, m => m.SignupId == signup.SignupId));
        var requests = crm.Requests.ToArray();
        Assert.Equal(["/api/3/contact/sync", "/api/3/contactLists", "/api/3/contactTags", "/api/3/contactTags"],
            requests.Select(r => r.Uri.AbsolutePath).ToArray());
        using (var sync = JsonDocument.Parse(requests[0].Body!))
        {
            Assert.Equal("Mary Ann Smith", sync.RootElement.GetProperty("contact").GetProperty("firstName").GetString());
            Assert.Equal("", sync.RootElement.GetProperty("contact").GetProperty("lastName").GetString());
        }
        using (var list = JsonDocument.Parse(requests[1].Body!))
        {
            var contactList = list.RootElement.GetProperty("contactList");
            Assert.Equal("7", contactList.GetProperty("list").GetString());
            Assert.Equal("42", contactList.GetProperty("contact").GetString());
            Assert.Equal(1, contactList.GetProperty("status").GetInt32());
        }
        var tags = requests[2..].Select(r => JsonDocument.Parse(r.Body!).RootElement.GetProperty("contactTag")).ToArray();
        Assert.Equal(["3", "9"], tags.Select(t => t.GetProperty("tag").GetString()!).ToArray());
        Assert.All(tags, t => Assert.Equal("42", t.GetProperty("contact").GetString()));
        Assert.All(requests, r => Assert.Equal(CrmSyncTestHost.ApiToken, r.Headers["Api-Token"]));
    }

    [Fact]
    public async Task A_list_that_does_not_exist_fails_the_step_and_removes_the_contact_it_created()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("42"))
            .Then(HttpStatusCode.NotFound, """{"message":"No Result found for List with id 7"}""")
            .Then(HttpStatusCode.OK, "{}");
        await using var host = await CrmSyncTestHost.Start(crm, settings: ListAndTags);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        Assert.Equal("activecampaign:404", (await PublishedOne<ContactSyncFailed>(host.Harness, m => m.SignupId == signup.SignupId)).Reason);
        var last = crm.Requests.Last();
        Assert.Equal(HttpMethod.Delete, last.Method);
        Assert.EndsWith("/api/3/contacts/42", last.Uri.AbsolutePath);
        Assert.False(await host.Harness.Published.Any<ContactSynced>());
    }

    [Fact]
    public async Task A_tag_refused_after_an_update_does_not_delete_a_contact_that_existed_before()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.OK, StubActiveCampaign.Contact("42"))
            .Then(HttpStatusCode.OK, "{}")
            .Then(HttpStatusCode.UnprocessableEntity, """{"errors":[{"code":"tag_invalid"}]}""");
        await using var host = await CrmSyncTestHost.Start(crm, settings: ListAndTags);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        Assert.Equal("activecampaign:422:tag_invalid", (await PublishedOne<ContactSyncFailed>(host.Harness, m => m.SignupId == signup.SignupId)).Reason);
        Assert.DoesNotContain(crm.Requests, r => r.Method == HttpMethod.Delete);
    }

    [Fact]
    public async Task A_transient_list_failure_retries_the_list_without_syncing_again()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("42"))
            .Then(HttpStatusCode.BadGateway, "")
            .Then(HttpStatusCode.Created, "{}")
            .Then(HttpStatusCode.Created, "{}")
            .Then(HttpStatusCode.Created, "{}");
        await using var host = await CrmSyncTestHost.Start(crm, settings: ListAndTags);
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        // Still "created": the ledger kept the sync's answer across the retry.
        Assert.True((await PublishedOne<ContactSynced>(host.Harness, m => m.SignupId == signup.SignupId)).Created);
        Assert.Single(crm.Requests, r => r.Uri.AbsolutePath == "/api/3/contact/sync");
        Assert.Equal(2, crm.Requests.Count(r => r.Uri.AbsolutePath == "/api/3/contactLists"));
    }

    [Fact]
    public async Task A_429_waits_at_least_its_retry_after()
    {
        var crm = new StubActiveCampaign()
            .Then(HttpStatusCode.Created, StubActiveCampaign.Contact("1"))
            .ThenRetryAfter(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""", "2")
            .Always(HttpStatusCode.OK, "{}");
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>(ListAndTags)
        {
            ["ActiveCampaign:Retry:InProcessMaxDelay"] = "00:00:05",
        });
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        await PublishedOne<ContactSynced>(host.Harness, m => m.SignupId == signup.SignupId);
        var lists = crm.Requests.Where(r => r.Uri.AbsolutePath == "/api/3/contactLists").ToArray();
        Assert.Equal(2, lists.Length);
        Assert.True(lists[1].At - lists[0].At >= TimeSpan.FromSeconds(1.95), $"retried after {(lists[1].At - lists[0].At).TotalSeconds:0.00}s");
    }

    [Fact]
    public async Task Past_the_deadline_the_step_fails_as_unavailable()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.ServiceUnavailable, "");
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:Retry:InitialDelay"] = "00:00:00.100",
            ["ActiveCampaign:Retry:Deadline"] = "00:00:01",
        });
        var signup = Signup();

        await host.Harness.Bus.Publish(signup);

        Assert.Equal("activecampaign:unavailable", (await PublishedOne<ContactSyncFailed>(host.Harness, m => m.SignupId == signup.SignupId)).Reason);
        Assert.InRange(crm.Requests.Count, 2, 20);
    }

    [Fact]
    public async Task Calls_are_spaced_by_the_configured_rate()
    {
        var crm = new StubActiveCampaign().Always(HttpStatusCode.Created, StubActiveCampaign.Contact("5"));
        await using var host = await CrmSyncTestHost.Start(crm, settings: new Dictionary<string, string?>
        {
            ["ActiveCampaign:RequestsPerSecond"] = "5",
        });
        var signups = Enumerable.Range(0, 8).Select(_ => Signup()).ToList();

        foreach (var signup in signups)
            await host.Harness.Bus.Publish(signup);

        await Eventually.True(() => host.Harness.Published.Select<ContactSynced>().Count() == signups.Count, TimeSpan.FromSeconds(30), "8 contacts synced");
        var at = crm.Requests.Select(r => r.At).Order().ToArray();
        // Eight calls at five a second: at least 7 intervals of 200 ms between the first and the last, and no two closer than ~200 ms.
        Assert.True(at[^1] - at[0] >= TimeSpan.FromMilliseconds(1350), $"{(at[^1] - at[0]).TotalMilliseconds} ms");
        var closest = at.Zip(at.Skip(1), (a, b) => b - a).Min();
        Assert.True(closest >= TimeSpan.FromMilliseconds(150), $"two calls {closest.TotalMilliseconds} ms apart");
    }
}
