using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Integrations;

/// <summary>One call the fake APIs answered (<c>GET /_fake/requests</c>), with when.</summary>
public sealed record FakeCall(string Api, string Path, string? Email, int Status, string? Error, DateTimeOffset At);

/// <remarks>
/// Not run in parallel with the other collections: the burst measures time against Slack's limit, which a machine busy
/// with another local-mode instance (2 cores) would distort.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IntegrationsCollection
{
    /// <summary>One local-mode instance at a time for these classes: each brings up its own configuration on the same ports.</summary>
    public const string Name = "integrations on the local mode";
}

/// <summary>
/// Its own local-mode instance (deploy/local/up.sh with <c>JOINERY_SERVICE_ENV_FILE</c>), on ports and a virtual host
/// of its own so that it runs beside the main end-to-end collection: gateway 8180, store 8181, crm-sync 8182,
/// slack-invite 8183, fake APIs 8190 (SMTP sink 2625). A subclass says which Slack strategy and settings it runs with.
/// </summary>
public abstract class IntegrationsLocalMode : IAsyncLifetime
{
    public const int GatewayPort = 8180, StorePort = 8181, CrmPort = 8182, SlackPort = 8183, FakePort = 8190, SmtpPort = 2625;
    public const string AdminUser = "admin";
    public const string AdminPassword = "e2e-admin-password-not-secret";
    public const string AdminChannel = "C0ADMINS";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly LocalModeInstance _local;

    protected IntegrationsLocalMode()
    {
        var settings = new Dictionary<string, string>(CommonSettings);
        foreach (var (key, value) in Settings)
            settings[key] = value;
        _local = new LocalModeInstance("e2e-integrations", new LocalModePorts(GatewayPort, StorePort, CrmPort, SlackPort, FakePort),
            "joinery-e2e-integrations", settings);
        FakeHttp = new HttpClient { BaseAddress = _local.Url("fake-apis"), Timeout = TimeSpan.FromSeconds(15) };
    }

    public GatewayClient Gateway => _local.Gateway;
    public FakeApisClient Fake => _local.Fake;
    public HttpClient FakeHttp { get; }
    public string VirtualHost => _local.VirtualHost;

    /// <summary>The scenario's settings, on top of <see cref="CommonSettings"/>.</summary>
    protected abstract IReadOnlyDictionary<string, string> Settings { get; }

    static IReadOnlyDictionary<string, string> CommonSettings => new Dictionary<string, string>
    {
        ["Slack__BotToken"] = "xoxb-fake-token",
        ["Slack__AdminChannelId"] = AdminChannel,
        ["Slack__Retry__InitialDelay"] = "00:00:00.200",
        // Waits over a second leave the consumer for the RabbitMQ wait queues, so the tests go through them.
        ["Slack__Retry__InProcessMaxDelay"] = "00:00:01",
        ["ActiveCampaign__Retry__InitialDelay"] = "00:00:00.200",
        ["ActiveCampaign__Retry__InProcessMaxDelay"] = "00:00:01",
        ["FakeApis__SmtpPort"] = SmtpPort.ToString(),
        ["Smtp__Host"] = "127.0.0.1",
        ["Smtp__Port"] = SmtpPort.ToString(),
        ["Smtp__Security"] = "None",
        ["Smtp__From"] = "Joinery <joinery@example.org>",
        ["Admin__Username"] = AdminUser,
        ["Admin__Password"] = AdminPassword,
    };

    public Task InitializeAsync() => _local.Start();

    public async Task DisposeAsync()
    {
        FakeHttp.Dispose();
        await _local.DisposeAsync();
    }

    /// <summary>Replaces the fake's behaviour (<c>POST /_fake/config</c>).</summary>
    public Task ConfigureFake(object behaviour) => _local.ConfigureFake(behaviour);

    public async Task AddFailure(object failure)
    {
        using var response = await FakeHttp.PostAsJsonAsync("/_fake/failures", failure);
        Assert.True(response.IsSuccessStatusCode, $"POST /_fake/failures: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonElement> FakeGet(string path) =>
        await FakeHttp.GetFromJsonAsync<JsonElement>(path, Json);

    /// <summary>The fake's request log with each call's error (Slack's <c>error</c>, ActiveCampaign's code).</summary>
    public async Task<IReadOnlyList<FakeCall>> Calls(string? email = null)
    {
        var log = await FakeGet(email is null ? "/_fake/requests" : $"/_fake/requests?email={Uri.EscapeDataString(email)}");
        return log.EnumerateArray().Select(r => new FakeCall(
            r.GetProperty("api").GetString()!,
            r.GetProperty("path").GetString()!,
            r.GetProperty("email").ValueKind == JsonValueKind.String ? r.GetProperty("email").GetString() : null,
            r.GetProperty("status").GetInt32(),
            r.GetProperty("error").ValueKind == JsonValueKind.String ? r.GetProperty("error").GetString() : null,
            r.GetProperty("at").GetDateTimeOffset())).ToList();
    }

    /// <summary>A client signed in as the configured admin through the gateway's sign-in form, as a browser would.</summary>
    public Task<HttpClient> SignedInAdmin() => _local.SignedInAdmin(AdminUser, AdminPassword);

    /// <summary>Kills slack-invite (SIGKILL, as a crash would) and starts it again with exactly the environment up.sh gave it.</summary>
    public Task RestartSlackInvite() => _local.Restart("slack-invite");

    /// <summary>The queues of this instance's virtual host (rabbitmqctl).</summary>
    public async Task<IReadOnlyList<string>> Queues()
    {
        var start = new ProcessStartInfo("rabbitmqctl") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-q", "list_queues", "-p", VirtualHost, "name", "--no-table-headers" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
