using System.Diagnostics;
using System.Net;
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

    static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(2);
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected IntegrationsLocalMode()
    {
        Root = RepoRoot.Find();
        StateDir = Path.Combine(Root, ".local", "e2e-integrations");
        Gateway = new GatewayClient(new Uri($"http://127.0.0.1:{GatewayPort}"));
        Fake = new FakeApisClient(new Uri($"http://127.0.0.1:{FakePort}"));
        FakeHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{FakePort}"), Timeout = TimeSpan.FromSeconds(15) };
    }

    public string Root { get; }
    public string StateDir { get; }
    public GatewayClient Gateway { get; }
    public FakeApisClient Fake { get; }
    public HttpClient FakeHttp { get; }
    public string VirtualHost => "joinery-e2e-integrations";

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

    public async Task InitializeAsync()
    {
        await RunScript("down.sh", StopTimeout);
        var data = Path.Combine(StateDir, "data");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);

        Directory.CreateDirectory(StateDir);
        var envFile = Path.Combine(StateDir, "services.env");
        var settings = new Dictionary<string, string>(CommonSettings);
        foreach (var (key, value) in Settings)
            settings[key] = value;
        await File.WriteAllLinesAsync(envFile, settings.Select(s => $"{s.Key}={s.Value}"));

        var building = Environment.GetEnvironmentVariable("JOINERY_SKIP_BUILD") != "1";
        var (exitCode, output) = await RunScript("up.sh", building ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(5), envFile);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/up.sh failed (exit code {exitCode}); logs are in {Path.Combine(StateDir, "logs")}.\n{output}");
    }

    public async Task DisposeAsync()
    {
        Gateway.Dispose();
        Fake.Dispose();
        FakeHttp.Dispose();
        var (exitCode, output) = await RunScript("down.sh", StopTimeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"deploy/local/down.sh failed (exit code {exitCode}).\n{output}");
    }

    /// <summary>Replaces the fake's behaviour (<c>POST /_fake/config</c>).</summary>
    public async Task ConfigureFake(object behaviour)
    {
        using var response = await FakeHttp.PostAsJsonAsync("/_fake/config", behaviour);
        Assert.True(response.IsSuccessStatusCode, $"POST /_fake/config: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

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
    public async Task<HttpClient> SignedInAdmin()
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{GatewayPort}"),
            Timeout = TimeSpan.FromSeconds(15),
        };
        using var response = await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["username"] = AdminUser, ["password"] = AdminPassword }));
        Assert.True(response.StatusCode == HttpStatusCode.SeeOther, $"POST /admin/login: {(int)response.StatusCode}");
        return client;
    }

    /// <summary>
    /// Kills slack-invite (SIGKILL, as a crash would) and starts it again with exactly the environment up.sh gave it,
    /// then waits until it is ready. Its new pid goes in the pid file, so down.sh still stops it.
    /// </summary>
    public async Task RestartSlackInvite()
    {
        var pidFile = Path.Combine(StateDir, "pids", "slack-invite.pid");
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim());
        var environment = (await File.ReadAllBytesAsync($"/proc/{pid}/environ"))
            .Aggregate(new List<List<byte>> { new() }, (parts, b) =>
            {
                if (b == 0) parts.Add([]);
                else parts[^1].Add(b);
                return parts;
            })
            .Select(bytes => System.Text.Encoding.UTF8.GetString(bytes.ToArray()))
            .Where(entry => entry.Contains('='))
            .Select(entry => (Key: entry[..entry.IndexOf('=')], Value: entry[(entry.IndexOf('=') + 1)..]))
            .ToList();

        using (var old = Process.GetProcessById(pid))
        {
            old.Kill();
            await old.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        var configuration = Environment.GetEnvironmentVariable("JOINERY_CONFIGURATION") ?? "Release";
        var directory = Path.Combine(Root, "services", "slack-invite", "bin", configuration, "net10.0");
        var log = Path.Combine(StateDir, "logs", "slack-invite.restarted.log");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = directory, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet Joinery.SlackInvite.dll --urls \"$0\" >\"$1\" 2>&1 </dev/null");
        start.ArgumentList.Add($"http://127.0.0.1:{SlackPort}");
        start.ArgumentList.Add(log);
        start.Environment.Clear();
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start slack-invite");
        await File.WriteAllTextAsync(pidFile, process.Id.ToString());

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(async () =>
        {
            try
            {
                using var response = await probe.GetAsync($"http://127.0.0.1:{SlackPort}/health/ready");
                return response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return HttpStatusCode.ServiceUnavailable;
            }
        }, status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "slack-invite ready again");
    }

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

    async Task<(int ExitCode, string Output)> RunScript(string script, TimeSpan timeout, string? envFile = null)
    {
        Directory.CreateDirectory(StateDir);
        var outputFile = Path.Combine(StateDir, $"{Path.GetFileNameWithoutExtension(script)}.{GetType().Name}.out");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Root, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" >\"$1\" 2>&1 </dev/null");
        start.ArgumentList.Add(Path.Combine(Root, "deploy", "local", script));
        start.ArgumentList.Add(outputFile);
        start.Environment["JOINERY_LOCAL_DIR"] = StateDir;
        start.Environment["JOINERY_GATEWAY_PORT"] = GatewayPort.ToString();
        start.Environment["JOINERY_STORE_PORT"] = StorePort.ToString();
        start.Environment["JOINERY_CRM_PORT"] = CrmPort.ToString();
        start.Environment["JOINERY_SLACK_PORT"] = SlackPort.ToString();
        start.Environment["JOINERY_FAKE_PORT"] = FakePort.ToString();
        start.Environment["JOINERY_RABBITMQ_VHOST"] = VirtualHost;
        start.Environment["JOINERY_RABBITMQ_FRESH_VHOST"] = "1";
        if (envFile is not null)
            start.Environment["JOINERY_SERVICE_ENV_FILE"] = envFile;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {script}");
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{script} did not finish within {timeout}.\n{Read(outputFile)}");
        }
        return (process.ExitCode, Read(outputFile));
    }

    static string Read(string file) => File.Exists(file) ? File.ReadAllText(file) : "(no output)";
}
