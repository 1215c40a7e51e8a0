using System.Net;
using Joinery.EndToEnd.Support;
using Xunit.Abstractions;

namespace Joinery.EndToEnd.Faults;

/// <summary>
/// Issue 9, faults 1, 2, 3 and 5 on the local mode (real RabbitMQ node, every service its own process, the fake APIs
/// over HTTP): nothing accepted is lost, nothing is done twice. Each test counts, from the fake's request log, the
/// contacts created (201) and the invites accepted (<c>ok:true</c>) per email: exactly one of each.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class Surviving_faults(FaultsLocalMode faults, ITestOutputHelper output)
{
    static IReadOnlyList<string> Emails(string label, int count) =>
        Enumerable.Range(0, count).Select(_ => GatewayClient.UniqueEmail(label)).ToList();

    [Fact]
    public async Task A_CRM_failing_30_percent_of_calls_completes_every_signup_and_permanent_errors_fail_with_their_reason()
    {
        var ordinary = Emails("flaky-crm", 100);
        var refusedByCrm = Emails("crm-refuses", 5);
        var refusedBySlack = Emails("slack-refuses", 5);
        foreach (var email in refusedByCrm)
            await faults.Fake.FailPermanently("activecampaign", email, "email_invalid", status: 422);
        foreach (var email in refusedBySlack)
            await faults.Fake.FailPermanently("slack", email, "invalid_email");
        // 20% 503 and 10% timeouts (the fake holds 2.5 s, crm-sync gives up after 2 s), on ActiveCampaign only.
        await faults.Local.ConfigureFake(new { errorRate = 0.2, timeoutRate = 0.1, timeoutMs = 2500, seed = 9, apis = new[] { "activecampaign" } });
        try
        {
            var started = DateTime.UtcNow;
            var submitted = await faults.Submit([.. ordinary, .. refusedByCrm, .. refusedBySlack], workers: 6);
            Assert.All(submitted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
            var final = await faults.WaitAllFinal(submitted.Select(s => s.Id!.Value), TimeSpan.FromMinutes(4));
            var byEmail = submitted.ToDictionary(s => s.Email, s => final[s.Id!.Value]);
            output.WriteLine($"{submitted.Count} signups final in {(DateTime.UtcNow - started).TotalSeconds:0}s");

            Assert.All(ordinary, e => Assert.True(byEmail[e].Status == "Completed", $"{e}: {byEmail[e]}"));
            Assert.All(refusedByCrm, e => Assert.True(byEmail[e].Status == "Failed" && byEmail[e].Reason == "activecampaign:422:email_invalid", $"{e}: {byEmail[e]}"));
            Assert.All(refusedBySlack, e => Assert.True(byEmail[e].Status == "Failed" && byEmail[e].Reason == "slack:invalid_email", $"{e}: {byEmail[e]}"));

            // Compensation, through the same flaky CRM: the record marked failed; the contact a Slack refusal left, deleted.
            foreach (var email in refusedByCrm.Concat(refusedBySlack))
            {
                var id = submitted.Single(s => s.Email == email).Id!.Value;
                await faults.Gateway.WaitFor(id, s => s.Step("store") == "Compensated", "record compensated", TimeSpan.FromSeconds(60));
            }
            foreach (var email in refusedBySlack)
            {
                var id = submitted.Single(s => s.Email == email).Id!.Value;
                await faults.Gateway.WaitFor(id, s => s.Step("crm") == "Compensated", "contact deleted", TimeSpan.FromSeconds(60));
            }

            var log = await faults.Fake.Requests();
            var chaos = log.Count(r => r.Api == "activecampaign" && r.Status is 503 or 504);
            var crmCalls = log.Count(r => r.Api == "activecampaign");
            output.WriteLine($"ActiveCampaign answered {chaos} of {crmCalls} calls with 503/504");
            Assert.True(chaos > crmCalls / 10, $"only {chaos} of {crmCalls} calls failed: the chaos did not happen");
            await faults.AssertEachCreatedAndInvitedOnce(ordinary);
            Assert.All(refusedByCrm, e => Assert.DoesNotContain(log, r => r.Email == e && (r.IsContactCreated || r.IsSlackInvite)));
            Assert.All(refusedBySlack, e => Assert.Equal(1, log.Count(r => r.Email == e && r.IsContactCreated)));
        }
        finally
        {
            await faults.Local.ConfigureFake(null);
        }
    }

    [Fact]
    public async Task Each_consumer_killed_and_restarted_mid_run_loses_and_duplicates_nothing()
    {
        var emails = Emails("killed", 150);
        var kills = new List<Task>();
        var plan = new (int After, string Process)[] { (25, "store"), (60, "crm-sync"), (95, "slack-invite") };
        var started = DateTime.UtcNow;
        var submitted = await faults.Submit(emails, workers: 3, afterEach: count =>
        {
            foreach (var (after, process) in plan)
                if (count == after)
                    lock (kills)
                        kills.Add(faults.Local.Restart(process));
            return Task.CompletedTask;
        });
        // Restarts one after another would be kinder; overlapping is the harder case and what a bad day looks like.
        await Task.WhenAll(kills);
        Assert.Equal(3, kills.Count);
        Assert.All(submitted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));

        var final = await faults.WaitAllFinal(submitted.Select(s => s.Id!.Value), TimeSpan.FromMinutes(4));
        output.WriteLine($"{submitted.Count} signups final in {(DateTime.UtcNow - started).TotalSeconds:0}s, with store, crm-sync and slack-invite killed");
        Assert.All(submitted, s => Assert.True(final[s.Id!.Value].Status == "Completed", $"{s.Email}: {final[s.Id!.Value]}"));
        await faults.AssertEachCreatedAndInvitedOnce(emails);
    }

    // The saga is saved before MassTransit's in-memory outbox sends InviteToSlack, so a send lost as the broker stops is
    // not repeated by the redelivered event (it finds the saga already in Inviting); the first run of this test left 7
    // of 500 in Inviting. The gateway's sweeper now nudges a signup unchanged for Signup:ResendAfter (a few seconds here)
    // and the saga sends its pending command again; the consumers' idempotence keeps each invite single.
    [Fact]
    public async Task RabbitMQ_restarted_in_the_middle_of_500_signups_loses_and_duplicates_nothing()
    {
        var emails = Emails("broker-restart", 500);
        Task? restart = null;
        var started = DateTime.UtcNow;
        var submitted = await faults.Submit(emails, workers: 8, afterEach: count =>
        {
            if (count == 150)
                restart = Task.Run(async () =>
                {
                    await faults.Rabbit.StopApp();
                    output.WriteLine($"RabbitMQ stopped at {(DateTime.UtcNow - started).TotalSeconds:0.0}s");
                    // Keep it down while signups keep coming: they are recorded and wait in the gateway's outbox.
                    await Eventually.Until(() => Task.FromResult(Volatile.Read(ref _answered)), n => n >= 230, TimeSpan.FromMinutes(3), "80 more answers");
                    await faults.Rabbit.StartApp();
                    output.WriteLine($"RabbitMQ started again at {(DateTime.UtcNow - started).TotalSeconds:0.0}s");
                });
            Volatile.Write(ref _answered, Math.Max(Volatile.Read(ref _answered), count));
            return Task.CompletedTask;
        });
        Assert.NotNull(restart);
        await restart;
        Assert.All(submitted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));

        var final = await faults.WaitAllFinal(submitted.Select(s => s.Id!.Value), TimeSpan.FromMinutes(5));
        output.WriteLine($"{submitted.Count} signups final in {(DateTime.UtcNow - started).TotalSeconds:0}s");
        Assert.All(submitted, s => Assert.True(final[s.Id!.Value].Status == "Completed", $"{s.Email}: {final[s.Id!.Value]}"));
        await faults.AssertEachCreatedAndInvitedOnce(emails);
    }

    int _answered;

    [Fact]
    public async Task While_RabbitMQ_is_down_a_202_means_recorded_and_processed_later_and_a_ledger_that_cannot_write_answers_503()
    {
        var emails = Emails("broker-down", 20);
        await faults.Rabbit.StopApp();
        IReadOnlyList<Submitted> submitted;
        try
        {
            submitted = await faults.Submit(emails, workers: 5);
            Assert.All(submitted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
            // Recorded: the status API knows each one, not yet started.
            foreach (var s in submitted)
            {
                var status = await faults.Gateway.Status(s.Id!.Value);
                Assert.True(status.HttpStatus == HttpStatusCode.OK && !status.IsFinal, status.ToString());
            }

            // The ledger cannot write: no 202, a 503 with Retry-After, and nothing recorded.
            await using (await faults.LockGatewayDatabase())
            {
                var refused = await faults.Submit([GatewayClient.UniqueEmail("ledger-locked")], workers: 1);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused[0].Status);
                Assert.NotNull(refused[0].RetryAfter);
                Assert.Null(refused[0].Id);
            }
        }
        finally
        {
            if (!faults.Rabbit.AppRunning)
                await faults.Rabbit.StartApp();
        }

        var final = await faults.WaitAllFinal(submitted.Select(s => s.Id!.Value), TimeSpan.FromMinutes(3));
        Assert.All(submitted, s => Assert.True(final[s.Id!.Value].Status == "Completed", $"{s.Email}: {final[s.Id!.Value]}"));
        await faults.AssertEachCreatedAndInvitedOnce(emails);
    }
}
