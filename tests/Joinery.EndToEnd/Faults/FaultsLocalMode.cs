using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.EndToEnd.Observability;
using Joinery.EndToEnd.Support;
using Microsoft.Data.Sqlite;

namespace Joinery.EndToEnd.Faults;

[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<FaultsLocalMode>
{
    public const string Name = "faults (local mode on a private RabbitMQ node)";
}

/// <summary>
/// The local mode on a RabbitMQ node of its own (<see cref="PrivateRabbitMq"/>, passed to up.sh through
/// <c>JOINERY_RABBITMQ_NODE</c>/<c>_PORT</c>), so the tests may stop and restart the broker without touching the
/// machine's; its own ports (gateway 8280, store 8281, crm-sync 8282, slack-invite 8283, fake APIs 8290), state folder
/// (<c>.local/e2e-faults</c>) and virtual host. Retries are shortened so that transient failures clear within seconds,
/// and the deadline sweeper looks every second and has a lost command sent again after 5 s.
/// </summary>
public sealed class FaultsLocalMode : IAsyncLifetime
{
    public const string NodeName = "joinery-e2e-faults@localhost";
    public const string AdminUser = "admin";
    public const string AdminPassword = "e2e-faults-admin-password-not-secret";
    public static readonly LocalModePorts PortSet = new(Gateway: 8280, Store: 8281, Crm: 8282, Slack: 8283, Fake: 8290);

    PrivateRabbitMq? _rabbit;
    LocalModeInstance? _local;

    public PrivateRabbitMq Rabbit => _rabbit ?? throw new InvalidOperationException("not started");
    public LocalModeInstance Local => _local ?? throw new InvalidOperationException("not started");
    public GatewayClient Gateway => Local.Gateway;
    public FakeApisClient Fake => Local.Fake;

    static IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Admin__Username"] = AdminUser,
        ["Admin__Password"] = AdminPassword,
        ["Signup__DeadlineSweepInterval"] = "00:00:01",
        // A command lost with the broker is sent again after this long unanswered (the default is 2 minutes).
        ["Signup__ResendAfter"] = "00:00:05",
        ["ActiveCampaign__Retry__InitialDelay"] = "00:00:00.200",
        ["ActiveCampaign__Retry__InProcessMaxDelay"] = "00:00:01",
        ["ActiveCampaign__Timeout"] = "00:00:02",
        ["Slack__Retry__InitialDelay"] = "00:00:00.200",
        ["Slack__Retry__InProcessMaxDelay"] = "00:00:01",
        ["Slack__Timeout"] = "00:00:02",
        ["FakeApis__SmtpPort"] = "2825",
    };

    public async Task InitializeAsync()
    {
        var stateDir = Path.Combine(RepoRoot.Find(), ".local", "e2e-faults-rabbitmq");
        _rabbit = await PrivateRabbitMq.Start(stateDir, NodeName);
        _local = new LocalModeInstance("e2e-faults", PortSet, "joinery-e2e-faults", Settings, new Dictionary<string, string>
        {
            ["JOINERY_RABBITMQ_NODE"] = NodeName,
            ["JOINERY_RABBITMQ_PORT"] = _rabbit.Port.ToString(),
        });
        await _local.Start();
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_local is not null)
                await _local.DisposeAsync();
        }
        finally
        {
            if (_rabbit is not null)
                await _rabbit.DisposeAsync();
        }
    }

    public Task<HttpClient> Admin() => Local.SignedInAdmin(AdminUser, AdminPassword);

    /// <summary>
    /// Posts <paramref name="emails"/> with <paramref name="workers"/> in parallel; <paramref name="afterEach"/> sees the
    /// running count of answers. Returns each email's HTTP status and, for a 202, its id.
    /// </summary>
    public async Task<IReadOnlyList<Submitted>> Submit(IReadOnlyList<string> emails, int workers, Func<int, Task>? afterEach = null)
    {
        var results = new ConcurrentBag<Submitted>();
        var next = -1;
        var answered = 0;
        using var http = new HttpClient { BaseAddress = Local.Url("gateway"), Timeout = TimeSpan.FromSeconds(60) };
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < emails.Count)
            {
                using var response = await http.PostAsJsonAsync("/api/signups", new { name = "Fault Tolerant", email = emails[i], consent = true });
                Guid? id = null;
                if (response.StatusCode == HttpStatusCode.Accepted)
                    id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
                results.Add(new Submitted(emails[i], response.StatusCode, id, response.Headers.RetryAfter?.Delta));
                var count = Interlocked.Increment(ref answered);
                if (afterEach is not null)
                    await afterEach(count);
            }
        }));
        var order = emails.Select((email, index) => (email, index)).ToDictionary(x => x.email, x => x.index);
        return results.OrderBy(r => order[r.Email]).ToList();
    }

    /// <summary>Polls every signup until each is Completed or Failed (several at once), or fails naming those that are not.</summary>
    public async Task<IReadOnlyDictionary<Guid, SignupStatus>> WaitAllFinal(IEnumerable<Guid> ids, TimeSpan timeout)
    {
        var final = new ConcurrentDictionary<Guid, SignupStatus>();
        var pending = ids.ToList();
        var last = new ConcurrentDictionary<Guid, SignupStatus>();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0)
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
            {
                var status = await Gateway.Status(id);
                last[id] = status;
                if (status.HttpStatus == HttpStatusCode.OK && status.IsFinal)
                    final[id] = status;
            });
            pending = pending.Where(id => !final.ContainsKey(id)).ToList();
            if (pending.Count == 0)
                break;
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0}s: {pending.Count} signup(s) still not final, e.g. " +
                    string.Join("; ", pending.Take(5).Select(id => $"{id}: {last.GetValueOrDefault(id)}")));
            await Task.Delay(500);
        }
        return final;
    }

    /// <summary>
    /// The fake saw each of <paramref name="emails"/> created exactly once as a contact and invited exactly once (the
    /// answers that succeeded: retries after 5xx, timeouts or a redelivery answered <c>already_invited</c> do not count).
    /// </summary>
    public async Task AssertEachCreatedAndInvitedOnce(IReadOnlyCollection<string> emails)
    {
        var log = await Fake.Requests();
        var byEmail = log.Where(r => r.Email is not null).ToLookup(r => r.Email!.Trim().ToLowerInvariant());
        var problems = new List<string>();
        foreach (var email in emails)
        {
            var calls = byEmail[email.ToLowerInvariant()].ToList();
            var created = calls.Count(c => c.IsContactCreated);
            var invited = calls.Count(c => c.IsAcceptedInvite);
            if (created != 1 || invited != 1)
                problems.Add($"{email}: {created} contact(s) created, {invited} invite(s) accepted {FakeApisClient.Describe(calls)}");
        }
        Assert.True(problems.Count == 0, $"{problems.Count} of {emails.Count} not exactly once:\n{string.Join("\n", problems.Take(10))}");
    }

    /// <summary>
    /// Holds a write lock on the gateway's SQLite database (its ledger) until disposed: the gateway's writes wait for
    /// SQLite's busy timeout and then fail, as on a full or broken disk.
    /// </summary>
    public async Task<IAsyncDisposable> LockGatewayDatabase()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Local.DataDir, "gateway.db"),
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        await connection.OpenAsync();
        var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
        await using (var write = connection.CreateCommand())
        {
            // BEGIN is deferred: a write takes the lock now and keeps it until the transaction ends.
            write.Transaction = transaction;
            write.CommandText = "CREATE TABLE IF NOT EXISTS e2e_lock (x INTEGER); INSERT INTO e2e_lock VALUES (1);";
            await write.ExecuteNonQueryAsync();
        }
        return new Releaser(async () =>
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        });
    }

    /// <summary>Runs SQL on one of the services' SQLite databases (<c>data/&lt;service&gt;.db</c>).</summary>
    public async Task Sql(string service, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Local.DataDir, service + ".db"),
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    sealed class Releaser(Func<Task> release) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await release();
    }
}

public sealed record Submitted(string Email, HttpStatusCode Status, Guid? Id, TimeSpan? RetryAfter);
