using System.Net;
using System.Text;
using System.Text.Json;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Integrations;

public sealed class ApprovalLocalMode : IntegrationsLocalMode
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Slack__Strategy"] = "Approval",
        ["Slack__ApprovalFollowUp"] = "AdminApi",
        ["ActiveCampaign__ListId"] = "7",
        ["ActiveCampaign__TagIds"] = "3,9",
    };
}

/// <summary>The Approval strategy end to end: the admins' channel, AwaitingApproval, the admin API's approve and reject.</summary>
[Collection(IntegrationsCollection.Name)]
public sealed class Approval_strategy_on_the_local_mode(ApprovalLocalMode local) : IClassFixture<ApprovalLocalMode>
{
    readonly GatewayClient _gateway = local.Gateway;

    async Task<Guid> WaitingForApproval(string email)
    {
        var id = await _gateway.SignUp(email);
        var waiting = await _gateway.WaitFor(id, s => s.Status == "AwaitingApproval", "is AwaitingApproval");
        Assert.Equal("AwaitingApproval", waiting.Step("slack"));
        var messages = await local.FakeGet($"/_fake/messages?channel={IntegrationsLocalMode.AdminChannel}");
        Assert.Contains(messages.EnumerateArray(), m => m.GetProperty("text").GetString()!.Contains(id.ToString()));
        return id;
    }

    static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    [Fact]
    public async Task An_approved_signup_is_invited_and_completes()
    {
        var email = GatewayClient.UniqueEmail("approved");
        var id = await WaitingForApproval(email);
        Assert.DoesNotContain(await local.Calls(email), c => c.Path == "/api/admin.users.invite");

        using var admin = await local.SignedInAdmin();
        using var response = await admin.PostAsync($"/api/admin/signups/{id}/approve", Json(new { }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var final = await _gateway.WaitUntilFinal(id);
        Assert.True(final.Status == "Completed", final.ToString());
        Assert.Single(await local.Calls(email), c => c.Path == "/api/admin.users.invite" && c.Status == 200 && c.Error is null);
        // The CRM step subscribed the contact to the list and tagged it.
        var contact = (await local.FakeGet("/_fake/contacts")).EnumerateArray()
            .Single(c => string.Equals(c.GetProperty("email").GetString(), email, StringComparison.OrdinalIgnoreCase)).GetProperty("id").GetString();
        Assert.Contains((await local.FakeGet("/_fake/contactLists")).EnumerateArray(),
            l => l.GetProperty("contact").GetString() == contact && l.GetProperty("list").GetString() == "7" && l.GetProperty("status").GetString() == "1");
        Assert.Equal(["3", "9"], (await local.FakeGet("/_fake/contactTags")).EnumerateArray()
            .Where(t => t.GetProperty("contact").GetString() == contact).Select(t => t.GetProperty("tag").GetString()!).Order().ToArray());
    }

    [Fact]
    public async Task A_rejected_signup_fails_as_admin_rejected_and_its_contact_is_deleted()
    {
        var email = GatewayClient.UniqueEmail("rejected");
        var id = await WaitingForApproval(email);

        using var admin = await local.SignedInAdmin();
        using var response = await admin.PostAsync($"/api/admin/signups/{id}/reject", Json(new { reason = "not a member of the community" }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var final = await _gateway.WaitUntilFinal(id);
        Assert.True(final.Status == "Failed", final.ToString());
        Assert.Equal("admin:rejected", final.Reason);
        await Eventually.Until(() => local.Calls(email), calls => calls.Any(c => c.Path.StartsWith("/api/3/contacts/") && c.Status == 200),
            TimeSpan.FromSeconds(30), "the contact's deletion", calls => string.Join("; ", calls));
        Assert.DoesNotContain(await local.Calls(email), c => c.Path == "/api/admin.users.invite");
    }

    [Fact]
    public async Task Approving_without_signing_in_is_refused()
    {
        var id = await WaitingForApproval(GatewayClient.UniqueEmail("anonymous"));

        using var response = await _gateway.Http.PostAsync($"/api/admin/signups/{id}/approve", Json(new { }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("AwaitingApproval", (await _gateway.Status(id)).Status);
    }
}

public sealed class InviteLinkLocalMode : IntegrationsLocalMode
{
    public const string Link = "https://join.slack.com/t/joinery-e2e/shared_invite/zt-e2e-link";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Slack__Strategy"] = "InviteLink",
        ["Slack__InviteLink"] = Link,
        ["Slack__InviteLinkMaxUses"] = "3",
        ["Slack__WorkspaceName"] = "Joinery E2E",
    };
}

/// <summary>The InviteLink strategy end to end: the mail through the SMTP sink, the cap on the link's uses.</summary>
[Collection(IntegrationsCollection.Name)]
public sealed class InviteLink_strategy_on_the_local_mode(InviteLinkLocalMode local) : IClassFixture<InviteLinkLocalMode>
{
    [Fact]
    public async Task The_link_is_mailed_to_each_person_until_its_cap_and_then_refused()
    {
        var emails = Enumerable.Range(1, 4).Select(i => GatewayClient.UniqueEmail($"link{i}")).ToList();
        var finals = new List<SignupStatus>();
        foreach (var email in emails)
            finals.Add(await local.Gateway.WaitUntilFinal(await local.Gateway.SignUp(email, "Grace Hopper")));

        Assert.All(finals.Take(3), f => Assert.True(f.Status == "Completed", f.ToString()));
        Assert.All(finals.Take(3), f => Assert.Equal("InviteLinkSent", f.Body.GetProperty("steps").GetProperty("slack").GetProperty("detail").GetString()));
        Assert.True(finals[3].Status == "Failed", finals[3].ToString());
        Assert.Equal("slack:invite_link_exhausted", finals[3].Reason);

        foreach (var email in emails.Take(3))
        {
            var mail = Assert.Single((await local.FakeGet($"/_fake/mails?to={Uri.EscapeDataString(email)}")).EnumerateArray());
            Assert.Contains(InviteLinkLocalMode.Link, mail.GetProperty("text").GetString());
            Assert.Equal("Your invitation to Joinery E2E", mail.GetProperty("subject").GetString());
        }
        Assert.Empty((await local.FakeGet($"/_fake/mails?to={Uri.EscapeDataString(emails[3])}")).EnumerateArray());
        // The admins heard about the last use and the cap.
        var posts = (await local.FakeGet($"/_fake/messages?channel={IntegrationsLocalMode.AdminChannel}")).EnumerateArray()
            .Select(m => m.GetProperty("text").GetString()!).ToList();
        Assert.Contains(posts, p => p.Contains("uses left"));
        Assert.Contains(posts, p => p.Contains("cap"));
    }
}
