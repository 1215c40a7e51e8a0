using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Faults;

/// <summary>
/// Issue 9, fault 4: Slack never answers one person (every call 503, so slack-invite keeps retrying through its wait
/// queues): the saga gives up at its deadline (the gateway's sweeper), fails the signup with <c>timeout:slack</c>,
/// deletes the CRM contact the signup created and marks the record failed, while a signup beside it completes.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class A_step_that_never_answers(FaultsLocalMode faults)
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Fails_at_the_deadline_naming_the_step_and_deletes_the_contact()
    {
        var local = faults.Local;
        // The gateway again, with a short deadline (as a deployment would configure Signup:Deadline).
        await local.Restart("gateway", new Dictionary<string, string> { ["Signup__Deadline"] = "00:00:15" });
        try
        {
            var stuck = GatewayClient.UniqueEmail("never-answers");
            var fine = GatewayClient.UniqueEmail("answers");
            // Transient for ever: slack-invite retries, the saga hears nothing. Left in place, so no late invite follows.
            await faults.Fake.FailPermanently("slack", stuck, "service_unavailable", status: 503);

            var started = DateTime.UtcNow;
            var stuckId = await faults.Gateway.SignUp(stuck);
            var fineId = await faults.Gateway.SignUp(fine);

            var failed = await faults.Gateway.WaitFor(stuckId, s => s.Status == "Failed", "fails at its deadline", TimeSpan.FromSeconds(90));
            var waited = DateTime.UtcNow - started;
            Assert.Equal("timeout:slack", failed.Reason);
            Assert.Equal("Failed", failed.Step("slack"));
            Assert.True(waited >= Deadline, $"failed after {waited.TotalSeconds:0.0}s, before its {Deadline.TotalSeconds}s deadline");

            // Compensated: the contact this signup created is deleted, the record marked failed.
            var compensated = await faults.Gateway.WaitFor(stuckId, s => s.Step("crm") == "Compensated" && s.Step("store") == "Compensated",
                "CRM contact and record compensated", TimeSpan.FromSeconds(60));
            Assert.Equal("Failed", compensated.Status);
            var calls = await faults.Fake.Requests(stuck);
            Assert.Equal(1, calls.Count(c => c.IsContactCreated));
            Assert.Contains(calls, c => c.IsContactDelete && c.Status == 200);
            Assert.DoesNotContain(calls, c => c.IsAcceptedInvite);
            Assert.Contains(calls, c => c.IsSlackInvite && c.Status == 503);

            var other = await faults.Gateway.WaitUntilFinal(fineId, TimeSpan.FromSeconds(60));
            Assert.True(other.Status == "Completed", other.ToString());
        }
        finally
        {
            // Back to the default deadline for the other tests of the collection.
            await local.Restart("gateway", new Dictionary<string, string> { ["Signup__Deadline"] = "01:00:00" });
        }
    }
}
