using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Integrations;

public sealed class AdminApiLocalMode : IntegrationsLocalMode
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Slack__Strategy"] = "AdminApi",
        // The burst below runs at the fake's 600 a minute; the client keeps to the same pace.
        ["Slack__InvitesPerMinute"] = "600",
        ["Slack__LookupsPerMinute"] = "6000",
        ["ActiveCampaign__RequestsPerSecond"] = "200",
        // The whole burst in flight at once, each invite allowed to wait up to 30 s for its permit in the process: were
        // a wait a blocked thread, the burst would need some 200 threads, which the thread pool grants at about one
        // a second, so it could not finish in anything like 20 s.
        ["Slack__ConcurrentInvites"] = "200",
        ["Slack__Retry__InProcessMaxDelay"] = "00:00:30",
    };
}

/// <summary>
/// Slack's AdminApi strategy on the local mode (each service its own process, real RabbitMQ): the member lookup, the
/// mapped errors, a Retry-After long enough to go through the RabbitMQ wait queue (and survive a restart of
/// slack-invite meanwhile), and a burst of 200 signups against a fake Slack limited to 600 invites a minute.
/// </summary>
[Collection(IntegrationsCollection.Name)]
public sealed class AdminApi_strategy_on_the_local_mode(AdminApiLocalMode local, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<AdminApiLocalMode>
{
    readonly GatewayClient _gateway = local.Gateway;

    static string Email(string label) => GatewayClient.UniqueEmail(label);

    [Fact]
    public async Task A_workspace_member_completes_as_already_member_without_an_invite()
    {
        var email = Email("member");
        using (var seeded = await local.FakeHttp.PostAsync("/_fake/members",
                   new StringContent(JsonSerializer.Serialize(new { email }), System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, seeded.StatusCode);

        var final = await _gateway.WaitUntilFinal(await _gateway.SignUp(email));

        Assert.True(final.Status == "Completed", final.ToString());
        Assert.Equal("AlreadyMember", final.Body.GetProperty("steps").GetProperty("slack").GetProperty("detail").GetString());
        var calls = await local.Calls(email);
        Assert.Contains(calls, c => c.Path == "/api/users.lookupByEmail" && c.Status == 200 && c.Error is null);
        Assert.DoesNotContain(calls, c => c.Path == "/api/admin.users.invite");
    }

    [Theory]
    [InlineData("slack", "invalid_email", null, "slack:invalid_email")]
    [InlineData("slack", "invite_limit_reached", null, "slack:invite_limit_reached")]
    [InlineData("activecampaign", "email_invalid", 422, "activecampaign:422:email_invalid")]
    [InlineData("activecampaign", "forbidden", 403, "activecampaign:403:forbidden")]
    public async Task A_permanent_refusal_fails_the_signup_with_its_reason(string api, string error, int? status, string reason)
    {
        var email = Email("refused");
        await local.AddFailure(status is null ? new { api, email, error } : new { api, email, error, status });

        var final = await _gateway.WaitUntilFinal(await _gateway.SignUp(email));

        Assert.True(final.Status == "Failed", final.ToString());
        Assert.Equal(reason, final.Reason);
    }

    [Fact]
    public async Task A_long_retry_after_goes_through_a_rabbitmq_wait_queue_and_survives_a_restart_of_slack_invite()
    {
        var email = Email("waits");
        // The first invite is answered 429 with Retry-After: 35 s, over the 30 s in-process bound: the message waits on the broker.
        await local.AddFailure(new { api = "slack", email, error = "ratelimited", status = 429, times = 1, retryAfter = 35 });

        var id = await _gateway.SignUp(email);
        await Eventually.Until(() => local.Calls(email), calls => calls.Any(c => c.Path == "/api/admin.users.invite" && c.Status == 429),
            TimeSpan.FromSeconds(30), "the 429", calls => string.Join("; ", calls));
        var waitQueues = (await local.Queues()).Where(q => q.StartsWith("invite-to-slack-wait-", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(waitQueues);

        // A crash while the message waits: nothing of it is in the process.
        await local.RestartSlackInvite();

        var final = await _gateway.WaitUntilFinal(id, TimeSpan.FromSeconds(90));
        Assert.True(final.Status == "Completed", final.ToString());
        var invites = (await local.Calls(email)).Where(c => c.Path == "/api/admin.users.invite").ToList();
        Assert.Equal([429, 200], invites.Select(c => c.Status).ToArray());
    }

    [Fact]
    public async Task A_burst_of_200_signups_completes_at_the_slack_limit_with_few_429s_and_no_blocked_threads()
    {
        await local.ConfigureFake(new { slack = new { invitesPerMinute = 600 } });
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{IntegrationsLocalMode.SlackPort}"), Timeout = TimeSpan.FromSeconds(5) };
        var baseline = await ThreadPoolThreads(metrics);
        var emails = Enumerable.Range(0, 200).Select(i => Email($"burst{i}")).ToList();

        var sampling = new CancellationTokenSource();
        var peak = baseline;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, await ThreadPoolThreads(metrics));
                await Task.Delay(250);
            }
        });

        var clock = Stopwatch.StartNew();
        var ids = (await Task.WhenAll(emails.Select(e => _gateway.SignUp(e, "Burst Tester")))).ToList();
        var submitted = clock.Elapsed;
        var finals = new List<SignupStatus>();
        foreach (var chunk in ids.Chunk(20))
            finals.AddRange(await Task.WhenAll(chunk.Select(id => _gateway.WaitUntilFinal(id, TimeSpan.FromSeconds(120)))));
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;

        Assert.All(finals, f => Assert.True(f.Status == "Completed", f.ToString()));
        // From the first signup's creation to the last one's completion, by the saga's own clock.
        var first = finals.Min(f => DateTimeOffset.Parse(f.Body.GetProperty("createdAt").GetString()!, CultureInfo.InvariantCulture));
        var last = finals.Max(f => DateTimeOffset.Parse(f.Body.GetProperty("updatedAt").GetString()!, CultureInfo.InvariantCulture));
        var span = last - first;

        var all = await local.Calls();
        var invites = all.Where(c => c.Path == "/api/admin.users.invite" && emails.Contains(c.Email ?? "", StringComparer.OrdinalIgnoreCase)).ToList();
        var limited = invites.Count(c => c.Status == 429);
        var inviting = invites.Max(c => c.At) - invites.Min(c => c.At);
        output.WriteLine($"200 signups submitted in {submitted.TotalSeconds:0.0}s; invites from first to last {inviting.TotalSeconds:0.0}s; " +
                         $"first creation to last completion {span.TotalSeconds:0.0}s (client {clock.Elapsed.TotalSeconds:0.0}s); " +
                         $"{invites.Count} invite calls, {limited} answered 429; thread pool {baseline} -> peak {peak} threads");
        // 200 invites at 10 a second take 20 s (the fake's bucket lets a second's worth through early), and the whole
        // burst ends soon after the last invite.
        Assert.True(inviting >= TimeSpan.FromSeconds(18) && inviting <= TimeSpan.FromSeconds(30), $"the invites took {inviting.TotalSeconds:0.0}s");
        Assert.True(span <= TimeSpan.FromSeconds(45), $"the burst took {span.TotalSeconds:0.0}s");
        Assert.True(limited < invites.Count * 0.02, $"{limited} of {invites.Count} invite calls were answered 429");
        foreach (var email in emails)
            Assert.Equal(1, invites.Count(c => c.Status == 200 && c.Error is null && string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase)));

        // Waiting for a permit is a timer, not a thread: 200 waiting consumers would otherwise need some 200 threads.
        Assert.True(peak <= 50, $"thread pool grew from {baseline} to {peak} threads during the burst");
    }

    /// <summary><c>dotnet_thread_pool_thread_count</c> from the service's Prometheus endpoint.</summary>
    static async Task<int> ThreadPoolThreads(HttpClient metrics)
    {
        var text = await metrics.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_thread_pool_thread_count", StringComparison.Ordinal) && !l.StartsWith('#'))
                   ?? throw new InvalidOperationException("no dotnet_thread_pool_thread_count in /metrics");
        var value = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return (int)double.Parse(value, CultureInfo.InvariantCulture);
    }
}
