using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Faults;

/// <summary>
/// Issue 9, fault 6: the store cannot write one person's record (a trigger in its SQLite database refuses it, as a
/// broken disk would), so its consumer gives up after its retries and MassTransit moves the message to
/// <c>store-signup_error</c>. The admin API lists it with its fault reason; once the database is fixed an admin sends it
/// back, the store records it and the signup completes; the error queue no longer holds it.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class Messages_no_consumer_can_process(FaultsLocalMode faults)
{
    const string Trigger = "e2e_refuse_one_record";

    [Fact]
    public async Task Land_in_the_error_queue_are_listed_by_the_admin_API_and_complete_once_sent_back()
    {
        var email = GatewayClient.UniqueEmail("poison");
        await faults.Sql("store", $"""
            CREATE TRIGGER {Trigger} BEFORE INSERT ON signups WHEN NEW.normalized_email = '{email}'
            BEGIN SELECT RAISE(ABORT, 'e2e: the disk refused this record'); END;
            """);
        using var admin = await faults.Admin();
        using (var anonymous = new HttpClient { BaseAddress = faults.Local.Url("gateway") })
        using (var refused = await anonymous.GetAsync("/api/admin/errors"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var id = await faults.Gateway.SignUp(email);

        var item = await Eventually.Until(async () => (await List(admin)).FirstOrDefault(e => e.GetProperty("signupId").GetString() == id.ToString()),
            e => e.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(90), "the message in store-signup_error, listed");
        Assert.Equal("store-signup", item.GetProperty("queue").GetString());
        Assert.Equal("store-signup_error", item.GetProperty("errorQueue").GetString());
        Assert.Contains("SignupRequested", item.GetProperty("messageType").GetString());
        Assert.Contains("e2e: the disk refused this record", item.GetProperty("reason").GetString());
        var messageId = item.GetProperty("messageId").GetString()!;
        Assert.False(string.IsNullOrEmpty(messageId));

        var waiting = await faults.Gateway.Status(id);
        Assert.Equal("Processing", waiting.Status);
        Assert.NotEqual("Done", waiting.Step("store"));

        // Fixed: the database takes the record again. Then the admin sends the message back.
        await faults.Sql("store", $"DROP TRIGGER {Trigger};");
        using (var unknown = await admin.PostAsync($"/api/admin/errors/store-signup/{Guid.NewGuid()}/resend", Json("{}")))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var resend = await admin.PostAsync($"/api/admin/errors/store-signup/{Uri.EscapeDataString(messageId)}/resend", Json("{}")))
        {
            var body = await resend.Content.ReadAsStringAsync();
            Assert.True(resend.StatusCode == HttpStatusCode.OK, $"resend: {(int)resend.StatusCode} {body}");
            Assert.Equal(1, JsonDocument.Parse(body).RootElement.GetProperty("resent").GetInt32());
        }

        var final = await faults.Gateway.WaitUntilFinal(id, TimeSpan.FromSeconds(60));
        Assert.True(final.Status == "Completed", final.ToString());
        Assert.DoesNotContain(await List(admin), e => e.GetProperty("messageId").GetString() == messageId);
        await faults.AssertEachCreatedAndInvitedOnce([email]);
    }

    static async Task<IReadOnlyList<JsonElement>> List(HttpClient admin)
    {
        var body = await admin.GetFromJsonAsync<JsonElement>("/api/admin/errors?queue=store-signup");
        return body.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
