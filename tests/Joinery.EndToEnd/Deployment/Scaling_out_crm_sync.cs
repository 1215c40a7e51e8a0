using System.Collections.Concurrent;
using System.Net;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

/// <summary>
/// What `docker compose up --scale crm-sync=3` and KEDA rely on: several crm-sync processes on one queue share the work,
/// and each contact still reaches ActiveCampaign exactly once. Its local mode (<see cref="ScalingLocalMode"/>) runs one
/// crm-sync; this test starts two more exactly like it (same build, environment and data folder, read from the running
/// one through /proc), each with its own log, which is how each process's share is counted.
/// </summary>
[Collection(ScalingCollection.Name)]
public sealed class Scaling_out_crm_sync(ScalingLocalMode local)
{
    const int Signups = 300;
    const int ExtraProcesses = 2;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    static readonly TimeSpan AllDoneTimeout = TimeSpan.FromMinutes(5);

    readonly GatewayClient _gateway = local.Gateway;
    readonly FakeApisClient _fake = local.Fake;

    [Fact]
    public async Task Three_crm_sync_processes_share_300_signups_every_one_completes_and_each_contact_is_synced_once()
    {
        var original = LocalProcess.Of(local.StateDir, "crm-sync");
        var vhost = original.RabbitMqVhost;
        var originalLogStart = ServiceLog.Length(original.LogFile);
        var extras = new List<StartedProcess>();
        try
        {
            for (var i = 1; i <= ExtraProcesses; i++)
                extras.Add(original.StartAnother(Path.Combine(local.StateDir, "logs", $"crm-sync-extra-{i}.log"),
                    new Dictionary<string, string>
                    {
                        // Their share is counted from the HttpClient's request lines: make sure those are logged.
                        ["Logging__LogLevel__System.Net.Http.HttpClient"] = "Information",
                    }));
            foreach (var extra in extras)
                await extra.WaitUntilReady(StartTimeout);

            // All three consume sync-contact before the first signup is published, or the first would take it all.
            var pids = extras.Select(e => e.Pid).Append(original.Pid).ToHashSet();
            await Eventually.Until(() => LocalBroker.Consumers(vhost),
                consumers => pids.All(pid => consumers.Any(c => c.Queue == "sync-contact" && c.ProcessId == pid)),
                StartTimeout, $"processes {string.Join(", ", pids)} all consume sync-contact",
                consumers => string.Join("; ", consumers.Where(c => c.Queue == "sync-contact").Select(c => $"{c.Assembly} pid {c.ProcessId}")));

            var emails = Enumerable.Range(1, Signups).Select(i => GatewayClient.UniqueEmail($"scale{i}")).ToList();
            var ids = new ConcurrentDictionary<string, Guid>();
            await Parallel.ForEachAsync(emails, new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (email, _) => ids[email] = await _gateway.SignUp(email, "Katherine Johnson"));

            // Every signup completes.
            var finals = await WaitUntilAllFinal(ids.Values.ToList());
            var notCompleted = finals.Where(f => f.Value.Status != "Completed").Select(f => $"{f.Key}: {f.Value}").ToList();
            Assert.True(notCompleted.Count == 0, $"{notCompleted.Count} of {Signups} did not complete:\n{string.Join("\n", notCompleted.Take(10))}");

            // ActiveCampaign saw each contact exactly once.
            var wanted = emails.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var syncs = (await _fake.Requests()).Where(r => r.IsContactSync && r.Email is not null && wanted.Contains(r.Email.Trim())).ToList();
            var perEmail = syncs.GroupBy(r => r.Email!.Trim(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
            var wrong = emails.Where(e => perEmail.GetValueOrDefault(e) != 1).Select(e => $"{e}: {perEmail.GetValueOrDefault(e)}").ToList();
            Assert.True(wrong.Count == 0, $"{wrong.Count} contacts were not synced exactly once: {string.Join(", ", wrong.Take(10))}");

            // Each process did a share. The extra ones are counted from their own logs; the original's share is the
            // rest (its log level is the local mode's business), cross-checked against its log when that shows them.
            var extraShares = extras.Select(e => ServiceLog.Count(e.LogFile, ServiceLog.ContactSyncSent)).ToList();
            var originalShare = syncs.Count - extraShares.Sum();
            var shares = $"original pid {original.Pid}: {originalShare}; " +
                         string.Join("; ", extras.Select((e, i) => $"extra pid {e.Pid}: {extraShares[i]}"));
            Assert.All(extraShares, share => Assert.True(share > 0, $"an extra crm-sync handled no signup ({shares})"));
            Assert.True(originalShare > 0, $"the original crm-sync handled no signup ({shares})");
            var originalLogged = ServiceLog.Count(original.LogFile, ServiceLog.ContactSyncSent, originalLogStart);
            if (originalLogged > 0)
                Assert.True(originalLogged == originalShare, $"the original's log shows {originalLogged} syncs ({shares})");
        }
        finally
        {
            foreach (var extra in extras)
                await extra.DisposeAsync();
        }
    }

    /// <summary>Polls every signup until each is final, asking only about those still in flight.</summary>
    async Task<IReadOnlyDictionary<Guid, SignupStatus>> WaitUntilAllFinal(IReadOnlyList<Guid> ids)
    {
        var finals = new ConcurrentDictionary<Guid, SignupStatus>();
        var deadline = DateTime.UtcNow + AllDoneTimeout;
        while (finals.Count < ids.Count && DateTime.UtcNow < deadline)
        {
            await Parallel.ForEachAsync(ids.Where(id => !finals.ContainsKey(id)), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (id, _) =>
                {
                    var status = await _gateway.Status(id);
                    if (status.HttpStatus == HttpStatusCode.OK && status.IsFinal)
                        finals[id] = status;
                });
            if (finals.Count < ids.Count)
                await Task.Delay(TimeSpan.FromSeconds(1));
        }
        Assert.True(finals.Count == ids.Count,
            $"only {finals.Count} of {ids.Count} signups were final within {AllDoneTimeout.TotalMinutes} minutes");
        return finals;
    }
}
